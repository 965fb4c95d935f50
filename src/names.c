// ---------------------------------------------------------------------------
// Names of job functions (beat_name_fn)
//
// A table like the batch variants': entries are appended under a try-lock
// and published by a release store of nnames; a name is replaced with a
// release store of its pointer. Readers take no lock.

BEAT__DEF beat_result beat_name_fn(beat_pool *pool, beat_fn fn, const char *name)
{
    if (pool == NULL || fn == NULL || name == NULL)
        return BEAT_ERROR_INVALID_ARGUMENT;
    beat__spin_lock(&pool->names_lock); // orders writers; readers never take it
    beat_result r = BEAT_OK;
    // Relaxed: nnames only changes under the lock we hold.
    uint32_t n = beat__atomic_load_u32(&pool->nnames, BEAT__MO_RELAXED), i = 0;
    while (i < n && pool->names[i].fn != fn)
        i++;
    if (i < n) {
        // Release: a reader that sees the new pointer sees the string.
        beat__atomic_store_ptr((void **)&pool->names[i].name, (void *)(uintptr_t)name,
                               BEAT__MO_RELEASE);
    } else if (n == BEAT_NAMES) {
        r = BEAT_ERROR_OUT_OF_MEMORY;
    } else {
        pool->names[n].fn = fn;
        beat__atomic_store_ptr((void **)&pool->names[n].name, (void *)(uintptr_t)name,
                               BEAT__MO_RELAXED);
        // Release: publishes the entry to readers that acquire nnames.
        beat__atomic_store_u32(&pool->nnames, n + 1, BEAT__MO_RELEASE);
    }
    beat__spin_unlock(&pool->names_lock);
    if (r != BEAT_OK)
        beat__log(&pool->cfg.logger, BEAT_LOG_ERROR,
                  "beat_name_fn: %d functions are named already; raise BEAT_NAMES or name fewer",
                  BEAT_NAMES);
    return r;
}

BEAT__PRIVATE const char *beat__fn_name(const beat_pool *pool, beat_fn fn)
{
    // Acquire: pairs with the release in beat_name_fn.
    uint32_t n = beat__atomic_load_u32(&pool->nnames, BEAT__MO_ACQUIRE);
    for (uint32_t i = 0; i < n; i++)
        if (pool->names[i].fn == fn)
            // Acquire: pairs with the release store of a replacement.
            return (const char *)beat__atomic_load_ptr((void *const *)&pool->names[i].name,
                                                       BEAT__MO_ACQUIRE);
    return NULL;
}

BEAT__DEF const char *beat_fn_name(const beat_pool *pool, beat_fn fn)
{
    return pool == NULL || fn == NULL ? NULL : beat__fn_name(pool, fn);
}
