-- 惠企政策: the policy library officers go through with their enterprises (逐条对照). A
-- policy applies to an enterprise when the enterprise's industry is listed (or none is) and
-- its region lies under a listed region (or under the policy's own, when none is listed).
-- `search_terms` holds the jieba words and the CJK characters and character pairs of title,
-- issuer, number, summary and text (written by the server), so that short Chinese queries
-- match through the `simple` configuration.
CREATE TABLE policies (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    region_code    TEXT NOT NULL REFERENCES regions (code),
    title          TEXT NOT NULL CONSTRAINT policies_title_not_blank CHECK (btrim(title) <> ''),
    issuer         TEXT NOT NULL,
    doc_number     TEXT,
    level          TEXT NOT NULL CONSTRAINT policies_level_known CHECK (level IN ('national', 'provincial', 'city', 'county')),
    effective_from DATE NOT NULL,
    effective_to   DATE,
    industries     TEXT[] NOT NULL DEFAULT '{}',
    sizes          TEXT[] NOT NULL DEFAULT '{}',
    regions        TEXT[] NOT NULL DEFAULT '{}',
    benefit_kind   TEXT NOT NULL CONSTRAINT policies_benefit_kind_known CHECK (benefit_kind IN (
                       'subsidy', 'tax', 'fee', 'finance', 'talent', 'land', 'energy', 'market', 'other')),
    summary        TEXT NOT NULL,
    full_text      TEXT,
    search_terms   TEXT NOT NULL,
    search         TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', search_terms)) STORED,
    created_by     UUID NOT NULL REFERENCES users (id),
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT policies_dates_ordered CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT policies_sizes_known CHECK (sizes <@ ARRAY['large', 'medium', 'small', 'micro']::text[])
);
CREATE UNIQUE INDEX policies_number_key ON policies (region_code, doc_number) WHERE doc_number IS NOT NULL;
CREATE INDEX policies_search_idx ON policies USING gin (search);
CREATE INDEX policies_region_idx ON policies (region_code, effective_from DESC);
