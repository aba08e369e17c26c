DROP INDEX problems_open_created_idx;
