package client

// DefaultJobsBucket is the JetStream key-value bucket that keeps the JSON
// of every job taken by a worker (and of every job queued through the
// HTTP API), one entry per job id under JobKey(id). The staff page draws
// a letter's first-page preview from it. Workers create it with the
// results bucket's TTL.
const DefaultJobsBucket = "carta_jobs"

// JobKey is the key of job id in the jobs bucket: Token(id), as in the
// results bucket. The worker and the HTTP API both write and read it.
func JobKey(id string) string { return Token(id) }
