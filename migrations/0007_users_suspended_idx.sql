-- 0007_users_suspended_idx: the auth hook's suspension list (internal/user/auth_cache.c).
--
-- Every serve instance asks every 2 s for the users suspended in the last 30 minutes
-- (suspended_at > now() - interval): a range scan of this index, which holds suspended users
-- only, so the query stays cheap however large users grows and whatever the rest of the table
-- does. Suspensions are rare, so the index is tiny, and updates that leave suspended_at alone
-- stay HOT-eligible.
CREATE INDEX users_suspended_idx ON users (suspended_at) WHERE suspended_at IS NOT NULL;
