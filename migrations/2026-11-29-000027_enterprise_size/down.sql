ALTER TABLE enterprises DROP COLUMN size;
