-- Search and trends: accent- and case-insensitive name search over tracks and artists
-- (GET /v1/search), and the index the trend endpoints need.

-- unaccent and pg_trgm ship with PostgreSQL (postgresql-contrib, in Debian's
-- postgresql-15) and are trusted extensions, so the database owner can create them.
create extension if not exists unaccent with schema public;
create extension if not exists pg_trgm with schema public;

-- The search key of a name: without accents, lower case ('Beyoncé' -> 'beyonce',
-- 'ROSÉ' -> 'rose'). unaccent() itself is only STABLE (it looks its dictionary up through
-- search_path); naming the dictionary and every function by schema makes the result
-- depend on the argument alone, so this wrapper may be IMMUTABLE and back an index.
create function core.search_key(p_name text) returns text
language sql immutable parallel safe strict as $$
    select pg_catalog.lower(public.unaccent('public.unaccent'::regdictionary, p_name))
$$;

-- The LIKE pattern that matches a query's search key literally: `%`, `_` and `\` in what
-- the user typed are escaped, so they match themselves and not any text.
create function core.search_pattern(p_query text) returns text
language sql immutable parallel safe strict as $$
    select pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(core.search_key(p_query),
               '\', '\\'), '%', '\%'), '_', '\_')
$$;
grant execute on function core.search_key(text), core.search_pattern(text) to chartpulse_api;

-- Trigram indexes: `search_key(name) like '%q%'` (substring match, any position) uses
-- them for queries of three characters or more; shorter queries scan, which the small
-- track and artist tables allow.
create index track_name_search_idx on core.track using gin (core.search_key(name) public.gin_trgm_ops);
create index artist_name_search_idx on core.artist using gin (core.search_key(name) public.gin_trgm_ops);
