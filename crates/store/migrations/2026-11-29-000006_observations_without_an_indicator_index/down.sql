ALTER TABLE observations ADD KEY observations_indicator_period (indicator_id, period_end, region_id);
ALTER TABLE observations
    ADD CONSTRAINT observations_indicator_fk FOREIGN KEY (indicator_id) REFERENCES indicators (id);
