//! The diesel view of the tables the migrations create, written by hand to match
//! `migrations/*/up.sql` column for column (`tests/schema.rs` compares the two on a migrated
//! database, so a drift fails the build's tests rather than a query at run time).
//!
//! `joinable!` is declared only where a table has exactly one foreign key to another; tables
//! with two (lineage, members, ratio parts, history runs) join with an explicit `ON`.

diesel::table! {
    regions (id) {
        id -> Unsigned<Integer>,
        code -> Varchar,
        level -> Varchar,
        kind -> Nullable<Varchar>,
        name -> Varchar,
        name_vi -> Nullable<Varchar>,
        name_folded -> Varchar,
        parent_id -> Nullable<Unsigned<Integer>>,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
    }
}

diesel::table! {
    region_members (group_id, member_id) {
        group_id -> Unsigned<Integer>,
        member_id -> Unsigned<Integer>,
    }
}

diesel::table! {
    region_lineage (from_region_id, to_region_id) {
        from_region_id -> Unsigned<Integer>,
        to_region_id -> Unsigned<Integer>,
        kind -> Varchar,
        effective_date -> Date,
        approximate -> Bool,
        weight -> Nullable<Numeric>,
    }
}

diesel::table! {
    indicators (id) {
        id -> Unsigned<Integer>,
        code -> Varchar,
        name -> Varchar,
        name_vi -> Nullable<Varchar>,
        unit -> Varchar,
        kind -> Varchar,
        numerator_id -> Nullable<Unsigned<Integer>>,
        denominator_id -> Nullable<Unsigned<Integer>>,
        description -> Nullable<Text>,
    }
}

diesel::table! {
    sources (id) {
        id -> Unsigned<Integer>,
        name -> Varchar,
    }
}

diesel::table! {
    import_runs (id) {
        id -> Unsigned<BigInt>,
        started_at -> Datetime,
        finished_at -> Nullable<Datetime>,
        operator -> Varchar,
        status -> Varchar,
        dry_run -> Bool,
        inserted -> Unsigned<BigInt>,
        updated -> Unsigned<BigInt>,
        unchanged -> Unsigned<BigInt>,
        rejected -> Unsigned<BigInt>,
        message -> Nullable<Text>,
    }
}

diesel::table! {
    import_run_files (run_id, ordinal) {
        run_id -> Unsigned<BigInt>,
        ordinal -> Unsigned<Integer>,
        path -> Varchar,
        sha256 -> Char,
        size_bytes -> Unsigned<BigInt>,
        kind -> Varchar,
        row_count -> Unsigned<BigInt>,
    }
}

diesel::table! {
    import_run_rejections (run_id, ordinal) {
        run_id -> Unsigned<BigInt>,
        ordinal -> Unsigned<Integer>,
        file -> Varchar,
        line -> Unsigned<Integer>,
        column_name -> Nullable<Varchar>,
        value -> Nullable<Text>,
        reason -> Text,
    }
}

diesel::table! {
    observations (region_id, indicator_id, period_end, period_start) {
        region_id -> Unsigned<Integer>,
        indicator_id -> Unsigned<Integer>,
        period_end -> Date,
        period_start -> Date,
        value -> Numeric,
        qualifier -> Unsigned<TinyInt>,
        source_id -> Nullable<Unsigned<Integer>>,
        note -> Nullable<Varchar>,
        import_run_id -> Unsigned<BigInt>,
        row_digest -> Unsigned<BigInt>,
    }
}

diesel::table! {
    observation_history (id) {
        id -> Unsigned<BigInt>,
        region_id -> Unsigned<Integer>,
        indicator_id -> Unsigned<Integer>,
        period_end -> Date,
        period_start -> Date,
        value -> Numeric,
        qualifier -> Unsigned<TinyInt>,
        source_id -> Nullable<Unsigned<Integer>>,
        note -> Nullable<Varchar>,
        set_by_run_id -> Unsigned<BigInt>,
        replaced_by_run_id -> Unsigned<BigInt>,
        replaced_at -> Datetime,
    }
}

diesel::table! {
    targets (region_id, indicator_id, period_end, period_start) {
        region_id -> Unsigned<Integer>,
        indicator_id -> Unsigned<Integer>,
        period_end -> Date,
        period_start -> Date,
        target -> Numeric,
        source_id -> Nullable<Unsigned<Integer>>,
        import_run_id -> Unsigned<BigInt>,
        row_digest -> Unsigned<BigInt>,
    }
}

diesel::joinable!(import_run_files -> import_runs (run_id));
diesel::joinable!(import_run_rejections -> import_runs (run_id));
diesel::joinable!(observations -> regions (region_id));
diesel::joinable!(observations -> indicators (indicator_id));
diesel::joinable!(observations -> sources (source_id));
diesel::joinable!(observations -> import_runs (import_run_id));
diesel::joinable!(observation_history -> regions (region_id));
diesel::joinable!(observation_history -> indicators (indicator_id));
diesel::joinable!(observation_history -> sources (source_id));
diesel::joinable!(targets -> regions (region_id));
diesel::joinable!(targets -> indicators (indicator_id));
diesel::joinable!(targets -> sources (source_id));
diesel::joinable!(targets -> import_runs (import_run_id));

diesel::allow_tables_to_appear_in_same_query!(
    regions,
    region_members,
    region_lineage,
    indicators,
    sources,
    import_runs,
    import_run_files,
    import_run_rejections,
    observations,
    observation_history,
    targets,
);
