//! JSON Lines files: one object per line, its fields named as the kind's columns. Numbers are
//! kept as the text the file has (never through a float), so a value stays exact; a line
//! that is not an object, or a field the kind does not have, is a problem of that line.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader};
use std::sync::Arc;

use serde_json::value::RawValue;

use super::row::{Row, header_slots, strip_bom};
use crate::kind::Kind;
use crate::problem::Problem;

/// A JSON Lines file, positioned at its first line.
pub(super) struct JsonlFile<R> {
    lines: BufReader<R>,
}

impl<R: io::Read + io::Seek> JsonlFile<R> {
    /// Opens `file` as a file of `kind`, or of the kind the first object's fields name (the
    /// file is read up to that object, then rewound).
    pub(super) fn open(
        file: R,
        label: &Arc<str>,
        kind: Option<Kind>,
    ) -> Result<(Kind, Self), Vec<Problem>> {
        let mut lines = BufReader::with_capacity(256 * 1024, file);
        let kind = match kind {
            Some(kind) => kind,
            None => {
                // The first object's fields name the kind; read it, then rewind.
                let mut text = String::new();
                let mut line = 0;
                loop {
                    text.clear();
                    let n = lines.read_line(&mut text).map_err(|e| {
                        vec![Problem::new(
                            label,
                            line + 1,
                            "",
                            format!("cannot read: {e}"),
                            None,
                        )]
                    })?;
                    line += 1;
                    if n == 0 {
                        return Err(vec![Problem::new(label, 1, "", "the file is empty", None)]);
                    }
                    if !strip_bom(text.trim()).is_empty() {
                        break;
                    }
                }
                let fields: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(strip_bom(text.trim())).map_err(|e| {
                        vec![Problem::new(
                            label,
                            line,
                            "",
                            format!("not a JSON object: {e}"),
                            None,
                        )]
                    })?;
                let names: Vec<String> = fields.keys().cloned().collect();
                let (kind, _) = header_slots(label, &names, None)?;
                io::Seek::rewind(lines.get_mut()).map_err(|e| {
                    vec![Problem::new(
                        label,
                        0,
                        "",
                        format!("cannot read: {e}"),
                        None,
                    )]
                })?;
                lines = BufReader::with_capacity(256 * 1024, lines.into_inner());
                kind
            }
        };
        Ok((kind, JsonlFile { lines }))
    }

    /// Calls `on_row` for every line but blank ones; a line that is not a fitting object is
    /// a problem instead, and reading goes on.
    pub(super) fn for_each_row(
        &mut self,
        label: &Arc<str>,
        kind: Kind,
        problems: &mut Vec<Problem>,
        on_row: &mut impl FnMut(&Row<'_>),
    ) {
        let mut text = String::new();
        let mut line = 0u64;
        loop {
            text.clear();
            match self.lines.read_line(&mut text) {
                Ok(0) => break,
                Ok(_) => line += 1,
                Err(e) => {
                    problems.push(Problem::new(
                        label,
                        line + 1,
                        "",
                        format!("cannot read: {e}"),
                        None,
                    ));
                    break;
                }
            }
            let body = strip_bom(text.trim_end_matches(['\n', '\r']));
            if body.trim().is_empty() {
                continue;
            }
            row(label, kind, line, body, problems, on_row);
        }
    }
}

/// The row of one line's object `body`.
fn row(
    label: &Arc<str>,
    kind: Kind,
    line: u64,
    body: &str,
    problems: &mut Vec<Problem>,
    on_row: &mut impl FnMut(&Row<'_>),
) {
    let fields: Vec<(String, &RawValue)> =
        match serde_json::from_str::<BTreeMap<String, &RawValue>>(body) {
            Ok(map) => map.into_iter().collect(),
            Err(e) => {
                problems.push(Problem::new(
                    label,
                    line,
                    "",
                    format!("not a JSON object: {e}"),
                    None,
                ));
                return;
            }
        };
    let width = kind.columns().count();
    let mut owned: Vec<Option<String>> = vec![None; width];
    let mut json_numbers = 0u32;
    let mut ok = true;
    for (name, raw) in &fields {
        let Some(slot) = kind.slot(name) else {
            ok = false;
            problems.push(Problem::new(
                label,
                line,
                name.as_str(),
                format!(
                    "unknown field for {kind}; fields are: {}",
                    kind.columns().collect::<Vec<_>>().join(", ")
                ),
                None,
            ));
            continue;
        };
        let text = raw.get().trim();
        match text.as_bytes().first() {
            Some(b'"') => match serde_json::from_str::<String>(text) {
                Ok(s) => owned[slot] = Some(s),
                Err(e) => {
                    ok = false;
                    problems.push(Problem::new(
                        label,
                        line,
                        name.as_str(),
                        format!("bad JSON string: {e}"),
                        None,
                    ));
                }
            },
            Some(b'-' | b'0'..=b'9') => {
                owned[slot] = Some(text.to_owned());
                json_numbers |= 1 << slot;
            }
            _ if text == "null" => {}
            _ => {
                ok = false;
                problems.push(Problem::new(
                    label,
                    line,
                    name.as_str(),
                    "expected a string or a number",
                    Some(text),
                ));
            }
        }
    }
    if ok {
        let values: Vec<Option<&str>> = owned.iter().map(|v| v.as_deref()).collect();
        on_row(&Row::new(line, &values).with_plain_numbers(json_numbers));
    }
}
