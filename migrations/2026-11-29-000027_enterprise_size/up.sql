-- 企业规模: what a policy's `sizes` are matched against (`Policy::applicable`). Unknown (NULL)
-- until the roster says: an enterprise of unknown size is offered every policy.
ALTER TABLE enterprises
    ADD COLUMN size TEXT CONSTRAINT enterprises_size_known CHECK (size IN ('large', 'medium', 'small', 'micro'));
