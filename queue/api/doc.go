// Package api is Carta's HTTP face: a JSON API for services that do not
// speak NATS and a server-rendered web page for staff, both on one
// http.Handler (see New and Server.Handler). `carta serve` runs it, and
// `carta demo` starts it next to its embedded servers.
//
// # Routes
//
//	POST /v1/jobs                submit a job (role submit)
//	GET  /v1/jobs/{id}           status and result of a job (role submit or read)
//	GET  /v1/letters             stored letters, newest first (role read)
//	GET  /v1/letters/{id}.pdf    the PDF: 302 to a presigned S3 URL, or streamed (role read)
//	GET  /v1/letters/{id}/copies/{name}.pdf
//	                             one per-recipient copy, served as the PDF is (role read)
//	GET  /v1/openapi.yaml        the OpenAPI 3.1 description of the above (public)
//	GET  /                       the staff page: letters, search, download (role read)
//	GET  /login, POST /login     the sign-in form; POST /logout signs out
//	GET  /healthz, GET /readyz   liveness, and readiness (NATS up, index loaded)
//
// # Access
//
// Every route but /login, /healthz, /readyz, /static/ and
// /v1/openapi.yaml needs a principal. A principal is a configured bearer
// token (Token: name, roles, secret), presented as "Authorization: Bearer
// SECRET" or, for a person in a browser, kept in the HttpOnly,
// SameSite=Strict cookie "carta_token" that the sign-in form sets. There
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
// 403.
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
// # Letters index
//
// The list of letters is an in-memory index kept by a watcher on the
// results key-value bucket ("carta_results"), so listing never scans the
// bucket: it holds every recorded result, done and failed, newest
// (finished_at) first, and matches searches against the id, the title
// and the recipients, ignoring case and accents ("lopez" finds "López
// Obrador"). Pages are cut with an opaque cursor, stable while new
// letters arrive.
//
// # Signatures and copies
//
// The result event says whether a letter is signed (signed_by) and lists
// its per-recipient copies (copies). GET /v1/jobs/{id} and GET
// /v1/letters give each copy with its download URL (pdf_url); the staff
// page has a Signature column ("Signed by … (PAdES B-LT)" or "Not signed") and, under
// each letter's download button, a list of its copies, one link per
// recipient.
package api
