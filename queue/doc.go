// Package queue is Carta's worker side of the job queue: workers take
// letter jobs from NATS JetStream, render them, store the PDFs in S3 and
// report a result for every job.
//
// # Wire contract
//
// Every name below is a default; Config changes each of them.
//
//   - Jobs: JetStream stream "CARTA_JOBS" on subject "carta.jobs", work-queue
//     retention, DiscardNew (a full stream refuses new jobs rather than
//     silently dropping the oldest), explicit MaxMsgs, MaxBytes and
//     MaxMsgSize limits, and a Duplicates window of 10 minutes. Publishers
//     set the header Nats-Msg-Id to the job id; the body is the job JSON
//     exactly as submitted (letter/v1, see job-format.md).
//   - Consumer: one shared durable pull consumer "carta-workers",
//     AckExplicit, AckWait 15 s (workers send InProgress heartbeats every
//     AckWait/3 while a job runs, waits for a render slot or is held in a
//     storage outage, so a killed worker's jobs go to another within
//     AckWait), MaxDeliver
//     -1 (unlimited: the worker enforces Config.MaxDeliver, 5 by default,
//     itself; see Processing). Every worker process, on any machine, pulls from it; each pulls
//     one message per free in-flight slot (see Processing), never a
//     prefetched batch.
//   - Results: a JSON event (client.Result) recorded first in the
//     JetStream key-value bucket "carta_results" under the key <id>, then
//     published on "carta.results.<id>". Fields: id, status ("done" or
//     "failed"), bucket, key, sha256, bytes, pages, attempts, render_ms,
//     total_ms, carta_version, title, recipients, finished_at (RFC 3339,
//     UTC), accepted_at (when JetStream stored the job, RFC 3339, UTC: a
//     job without a date is dated that day) and, for a failure, error {code, message, field, fields}, with
//     code one of "invalid_job", "render_failed", "storage_failed",
//     "internal". A job whose body has no usable id gets its failed event
//     on "carta.results" itself and is not recorded. Results are kept
//     forever unless Config.ResultsTTL (-results-ttl) sets the bucket's
//     TTL: the staff page lists letters from this bucket, and a job whose
//     id is recorded "done" is never rendered again. Additions (issue 6),
//     both left out when empty: signed_by, the signer's name when the
//     stored letter is signed; and copies, for a job with output.copies
//     "per-recipient", one {name, key, sha256, bytes, pages, recipient,
//     signed_by} per recipient in the order of recipients (recipient is
//     that recipient's name). Addition (issue 15): signature_level, on
//     the letter and each copy, the PAdES level of the signature ("B-B",
//     "B-T", "B-LT" or "B-LTA"). key, sha256, bytes and pages describe the
//     combined letter; every sha256 and bytes is that of the object as
//     stored (signed, if signed).
//   - Job JSON: each job a worker lays out (valid or not, as long as it
//     has an id) is kept, as it came, in the JetStream key-value bucket
//     "carta_jobs" (Config.JobsBucket, -jobs-bucket) under the key
//     client.JobKey(id), the results bucket's key; the HTTP API (package
//     queue/api) keeps the jobs it queues there too and draws the staff
//     page's previews from it, so every job has one, whoever submitted
//     it. Setup creates the bucket with the results' TTL. The worker
//     reads the key first and writes only when it holds other bytes (a
//     job the API kept, or a redelivery, is not written again), and not
//     for a job whose result is already "done". The write runs beside
//     the job under Config.NATSTimeout and never fails or delays it: a
//     failure costs only the preview and is logged at warn once, until
//     a write works again.
//   - Dead letters: stream "CARTA_DEAD", subject "carta.dead.<id>", body
//     the original job bytes, headers Carta-Error (the last error),
//     Carta-Attempts and Carta-Job-Id. Requeue (carta requeue) publishes
//     one back on the jobs subject with its body unchanged, the header
//     Carta-Requeued-From "<dead stream>:<sequence>" and the message id
//     "requeue:<dead stream>:<sequence>", and deletes it from CARTA_DEAD.
//   - Objects: key "letters/<id>.pdf", or the job's output.key (refused if
//     it has a path segment "." or "..", a leading "/" or control
//     characters; dots elsewhere, as in "letters/a..b.pdf", are fine), Content-Type
//     application/pdf, metadata carta-job-id, carta-sha256, carta-pages
//     and carta-version, written with If-None-Match: * where the server
//     supports it. Per-recipient copies go under the letter's key without
//     ".pdf": "letters/<id>/copy-NN-slug.pdf" (renderer.CopyKey), the
//     combined letter stored first. Additions (issue 6), from the PDF's
//     provenance: carta-job-sha256 (sha256 of the canonical job,
//     renderer.CanonicalJobSHA256), carta-layout, carta-layout-version,
//     carta-fonts, carta-bytes (size as stored) and, on signed PDFs only,
//     carta-signed-by and (issue 15) carta-signature-level (B-B, B-T, B-LT
//     or B-LTA). carta-sha256 and carta-bytes are of the stored
//     bytes, signed if signed. A value that is not printable ASCII is
//     written as an RFC 2047 encoded word (see MetadataValue).
//
// Ids are used as subject tokens and key-value keys as they are. The job
// format allows two kinds of id NATS cannot carry that way: one ending in
// "." and one containing "..". For those (and only those) every "." is
// written "=2E" in the subject and key (see Token); no other id contains
// "=", so the mapping is one-to-one.
//
// # Processing
//
// A worker holds at most Config.MaxInFlight jobs (default twice
// Config.Concurrency) and renders at most Config.Concurrency of them at
// once (default the number of CPUs). A job gives its render slot back as
// soon as its renderer returns, so its upload, result record, publish
// and ack overlap the next job's render; the jobs beyond Concurrency
// wait for a render slot, with InProgress heartbeats, and their time
// limit (Config.JobTimeout) starts only once they have one. A worker
// pulls a message only when it holds fewer than MaxInFlight, so at most
// MaxInFlight - Concurrency jobs wait at a busy worker that another,
// idle worker could have taken. A render that outlives its job's time
// limit keeps its render slot until the renderer really returns: renders
// never exceed Concurrency.
//
// For each message a worker: looks the id up in the results bucket and,
// if it is already "done", publishes the recorded result again and acks
// without rendering; otherwise keeps the job's JSON in the jobs bucket
// (in the background, see the wire contract above), decodes, validates and renders the job
// (RenderAllJSON: job.Decode and renderer.RenderAll, in a goroutine with
// recover and the per-job time limit), signs every PDF when a Signer is
// configured, uploads the combined letter and then each copy, records
// the result, publishes it and acks.
//
// The retry decision is made once, in the worker:
//
//   - Permanent: an invalid job (code invalid_job, no object, no dead
//     letter), a render error or time-out (render_failed) and a renderer
//     panic (internal): a failed result is recorded and published and the
//     message terminated; render_failed and internal jobs are also copied
//     to the dead-letter stream for the operator.
//   - Storage outage, not a failure of the job: see Storage outages.
//   - Signing service outage, not a failure of the job either: see
//     Signing service outages.
//   - Transient: S3 errors that are not an outage (a 4xx about the one
//     object), errors of the results bucket or of publishing that
//     persist after the retries of NATS outages, and signing errors that
//     are not an outage (code internal: a certificate that expired or was
//     revoked, a key or TSA credentials that are refused are the
//     operator's to fix, and the job must survive until then): the
//     message is nak'ed with an
//     exponential delay (RetryBase doubling up to RetryMax). On the last
//     delivery (Config.MaxDeliver) the job is copied to the dead-letter
//     stream, a failed result is recorded and published, and the message
//     terminated. If the dead-letter copy itself fails, the message is
//     nak'ed with a delay rather than terminated, so it is not lost.
//
// The server does not limit deliveries; the worker does. A delivery
// beyond Config.MaxDeliver means the last one did not finish (its worker
// was killed or shut down, or its dead-letter copy failed): unless the
// job is recorded "done" (then its result is published again and the
// message acked), the worker dead-letters it, records and publishes a
// failed result (code internal) and terminates the message, without
// rendering it again; if the dead-letter copy fails, it naks with a
// delay and tries again at the next delivery.
//
// A failed result never replaces a recorded "done" one: it is written
// only where no result is, or over the revision the worker read, and
// when the bucket holds "done" instead, that result is published.
//
// Renders are deterministic and objects are written with If-None-Match,
// so a job delivered twice never leaves two different objects: an object
// already there with the same sha256 counts as stored. Signatures are
// not deterministic (they carry the signing time), so an object already
// there whose carta-job-sha256 is this job's also counts as stored: it
// is kept, and the event reports its sha256, size and signer (from its
// metadata), not those of the PDF this delivery made. Any other object
// at the key fails the job (storage_failed) and is left alone.
//
// # Storage outages
//
// The object store tells an outage of the store from a fault of one
// request by wrapping the error in an *UnavailableError (package
// s3store: no answer at all, connection refused or reset, timeouts, 5xx,
// 429 and SlowDown, credentials refused, NoSuchBucket). A worker that
// meets one while storing a job:
//
//   - holds the job: its PDFs stay in memory, its heartbeats keep it
//     from other workers, and it is neither nak'ed nor counted towards
//     Config.MaxDeliver. Once the store answers, the job stores its PDFs
//     with a new JobTimeout, on the same delivery: an outage spends no
//     attempt and renders nothing twice;
//   - stops pulling: pull requests already waiting may still bring one
//     job each (at most MaxInFlight are held), no new one is made. The
//     jobs wait in the stream for as long as its limits allow;
//   - logs the outage once (level ERROR, with a "fix" field saying what
//     to check: endpoint, credentials, bucket, -s3-create-bucket), sets
//     carta_storage_up to 0 and counts carta_storage_outages_total;
//     carta_jobs_held counts the jobs held; /readyz answers 503 with
//     how long, how many jobs are held and the fix;
//   - probes the bucket (BucketChecker: HeadBucket) after
//     Config.ProbeBase, then twice as long each time up to
//     Config.ProbeMax, and resumes by itself when it answers (logged
//     "storage back" with the outage's length).
//
// A shutdown during an outage naks the held jobs at once (one delivery
// each). /healthz stays 200 during an outage: restarting the worker
// would not bring S3 back. Run checks the bucket before pulling: with
// Config.CreateBucket (-s3-create-bucket) it creates a missing bucket,
// otherwise the worker starts in a storage outage and waits for it.
//
// # Signing service outages
//
// A Signer's error that wraps a SignerOutage (*sign.UnavailableError:
// the timestamp authority, an OCSP responder or a CRL distribution
// point unreachable, timing out, answering 5xx, 408 or 429) is handled
// as a storage outage, with its own state: the job is held (its
// rendered PDFs in memory, heartbeats going, no attempt spent), no new
// job is pulled, the outage is logged once ("signing service outage",
// with the service and a "fix" naming the flag, e.g. -sign-tsa-url),
// carta_signer_up goes to 0, carta_signer_outages_total counts it,
// carta_jobs_held counts the held jobs and /readyz answers 503 with the
// service, how long, how many jobs are held and the fix. The signer is
// probed (SignerProber: *sign.Signer asks the TSA to stamp a dummy
// digest and, with LTV, fetches the signer's revocation data) after
// Config.ProbeBase, doubling up to Config.ProbeMax; once it answers, the
// held jobs are signed again and stored on the same delivery ("signing
// service back"). Nothing unsigned or untimestamped is stored meanwhile.
// A shutdown naks the held jobs at once.
//
// # NATS outages
//
// Every JetStream call a worker makes for a job (results bucket reads
// and writes, jobs bucket reads and writes, dead letters, acks) has its
// own deadline,
// Config.NATSTimeout (10 s), shorter than the job's, and fails at once
// when the connection is lost (the reply of a request in flight at a
// disconnect never comes; nats.go would keep it until the deadline).
// After a lost connection, a lost reply or no responder (a restarting
// server, a stream leader being elected) the call is tried again once
// the connection is back, up to five times (carta_nats_retries_total);
// the job keeps its delivery meanwhile. Setup looks each stream,
// consumer and bucket up and then updates or creates it, each call with
// a short limit tried again, so workers started together on a fresh
// cluster are up in seconds.
//
// # Operations
//
// Worker.Handler serves /metrics (Prometheus), /healthz and /readyz.
// /readyz answers 200 only once Run has set up JetStream and checked
// the bucket, while no storage or signing service outage is in
// progress, NATS is connected
// and the jobs stream, the results bucket and the S3 bucket answer; 503
// otherwise, naming which (Worker.Ready). /healthz answers 200
// while the worker can make progress and 503, naming the job, once a
// render has held its render slot for more than twice JobTimeout: that
// job has failed already (render_failed, timed out), but its renderer
// never returned, so the slot stays lost until the process restarts, and
// an orchestrator's liveness probe should restart it (Worker.Healthy). Logs
// are log/slog records carrying job_id and attempt.
//
// Package queue/s3store is the S3 implementation of ObjectStore; it is
// the only package of Carta that imports the AWS SDK.
package queue
