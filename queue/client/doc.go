// Package client lets other services submit letter jobs to Carta's queue
// and wait for their results.
//
// It speaks the queue's wire contract (see package queue):
//
//   - Submit publishes the job JSON, unchanged, to the jobs subject
//     (default "carta.jobs") through JetStream with the header
//     Nats-Msg-Id set to the job's id, so a retried submit inside the
//     stream's Duplicates window is dropped by the server instead of
//     queued twice; an id whose recorded result is failed is submitted
//     with MsgID(id, failure) instead, so a corrected job is queued
//     again rather than dropped as a duplicate. A stream that is full (DiscardNew) refuses the job;
//     Submit then returns an error wrapping ErrQueueFull.
//   - Wait subscribes to the job's result subject
//     (default "carta.results.<id>") first and only then looks the id up
//     in the JetStream key-value bucket (default "carta_results"), so a
//     result published between the two steps cannot be missed, and a
//     submitter that comes back late still finds the recorded result.
//     Result events are core NATS messages, lost while a connection is
//     down; the worker records each result before publishing it, so Wait
//     looks the id up again after every reconnect (and every
//     LookupInterval, 30 s), and never misses a result across a server
//     restart. Each Lookup is bounded by LookupTimeout (10 s).
//
// Result is the Go type of the result event; the worker publishes exactly
// this JSON.
//
// DefaultJobsBucket and JobKey name where the worker and the HTTP API
// keep each job's JSON (for the staff page's previews), so that both
// agree; a submitter has nothing to do for it.
//
// A typical use:
//
//	nc, _ := nats.Connect(nats.DefaultURL)
//	c, _ := client.New(nc)
//	id, err := c.Submit(ctx, jobJSON)
//	res, err := c.Wait(ctx, id)
//	if err := res.Err(); err != nil { /* the job failed */ }
package client
