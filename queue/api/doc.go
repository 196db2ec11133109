// Package api is Carta's HTTP face: a JSON API for services that do not
// speak NATS and a server-rendered web page for staff, both on one
// http.Handler (see New and Server.Handler). `carta serve` runs it, and
// `carta demo` starts it next to its embedded servers.
//
// # Routes
//
//	POST /v1/jobs                submit a job (role submit)
//	GET  /v1/jobs/{id}           status and result of a job (role submit or read)
//	GET  /v1/letters             letters and queued jobs: filters, sort, paging both ways (role read)
//	GET  /v1/letters/{id}.pdf    the PDF: 302 to a presigned S3 URL, or streamed (role read);
//	                             an attachment "{id} - {title}.pdf", inline with ?inline=1
//	GET  /v1/letters/{id}/copies/{name}.pdf
//	                             one per-recipient copy, served as the PDF is (role read)
//	GET  /v1/openapi.yaml        the OpenAPI 3.1 description of the above (public)
//	GET  /                       the staff page: letters, filters, sort, paging (role read)
//	GET  /letters/{id}           one letter: every field, copies, failure, history (role read)
//	POST /letters/{id}/resubmit  a corrected job for a failed letter (roles read and submit)
//	GET  /letters/{id}/preview.png
//	                             the first page as a PNG (renderer/preview), for every
//	                             job, from its JSON in Config.JobsBucket ("carta_jobs"):
//	                             kept by POST /v1/jobs and by the worker that takes it
//	                             (queue.Config.JobsBucket), so also for jobs published
//	                             straight on NATS
//	GET  /login, POST /login     the sign-in form; POST /logout signs out
//	GET  /favicon.ico            the icon (public)
//	GET  /healthz, GET /readyz   liveness, and readiness (NATS up, index loaded)
//
// # Access
//
// Every route but /login, /healthz, /readyz, /static/, /favicon.ico and
// /v1/openapi.yaml needs a principal. A principal is a configured bearer
// token (Token: name, roles, secret of at least MinSecretLen varied
// characters), presented as "Authorization: Bearer SECRET" or, for a
// person in a browser, by the HttpOnly, SameSite=Strict cookie
// "carta_session" that the sign-in form sets: the token's name, an expiry
// and an HMAC keyed with its secret (session.go), never the secret. There
// are two roles:
//
//   - submit, for services: POST /v1/jobs, and GET /v1/jobs/{id} to follow
//     a job by its id (any job's id: ids are not secret, so a submit token
//     can read the status, title and recipients of a job whose id it
//     knows, but never list letters or download a PDF);
//   - read, for staff: GET /v1/jobs/{id}, the letters, their PDFs and the
//     staff page.
//
// submit does not imply read: a service that submits letters cannot list
// or download the letters of others. A token may carry both roles
// ("submit+read"). Secrets are compared in constant time (crypto/subtle,
// on their SHA-256 digests), never logged; logs name the token's name.
// Without a token a request gets 401, with a token that lacks the role
// 403. Failed sign-ins and unrecognised bearer tokens are logged with the
// client address, slowed, and past FailureLimit answered 429 per address
// (limiter.go). A method a route does not take gets 405 with Allow;
// responses over TLS carry Strict-Transport-Security.
//
// Anonymous access (both roles, principal "anonymous") exists only when
// Config.AllowAnonymous is set, and even then only for connections whose
// local and remote addresses are both loopback: New refuses the option
// when Config.Addr is not a loopback address, and every request is
// checked again, so the demo can open its page on 127.0.0.1 without a
// token while nothing reaches it from the network.
//
// Unsafe cross-origin browser requests are refused (http.CrossOriginProtection),
// request bodies are capped (job.MaxJobBytes for jobs, 4 KiB for forms),
// and Server.HTTPServer sets header, read, write and idle timeouts.
//
// # Letters index and submissions
//
// The list of letters is an in-memory index kept by watchers on two
// key-value buckets, so listing never scans a bucket and every `serve`
// instance has the same list: the results bucket ("carta_results"), with
// every recorded result, done and failed; and the submissions bucket
// (Config.SubmissionsBucket, "carta_submissions", created when missing),
// where POST /v1/jobs records each job it queues (Submission: title,
// recipients, date, layout, who and when, and the failed results of the
// earlier submissions of the id). An id is queued while its submission
// has no newer result than the one it replaced. Searches match the id,
// the title and the recipients, ignoring case and accents ("lopez"
// finds "López Obrador"); filters take the status, the layout and a
// range of the letter's own date; sorts are by stored time, letter date
// or title. Pages are cut with opaque keyset cursors (the sort key and
// id of the last or first row), so they go both ways and stay stable
// while letters arrive; each answer says its offset in the total.
//
// # Resubmission
//
// A queued or done id is refused with 409. A failed id may be submitted
// again. A job is published first, with client.Publish, whose
// Nats-Msg-Id is the id, or for a failed id client.MsgID(id, failure),
// so the stream's duplicates window neither drops a resubmission nor
// queues two racing requests twice (the second gets 409); then its
// submission is recorded, so a job the queue refuses leaves no record.
//
// # Signatures and copies
//
// The result event says whether a letter is signed (signed_by) and lists
// its per-recipient copies (copies). GET /v1/jobs/{id} and GET
// /v1/letters give each copy with its download URL (pdf_url); the staff
// page has a Signature column ("Signed" and the PAdES level, with the signer in its title,
// or "—") and the detail view lists the copies, each with Open and
// Download.
package api
