// Package jsonscan reads JSON in place, in one pass and without
// allocating: whitespace, strings (their bytes when they have no
// escapes), literals, numbers, the comma or closing delimiter after a
// member, and whole values skipped. It checks syntax as encoding/json
// does, except UTF-8, which it leaves to the caller.
//
// Two fast paths build on it: the job check of renderer/job (a job of the
// shape Decode accepts) and the id read of queue/client (the id
// encoding/json would read). Both only ever save time: what they do not
// accept goes to encoding/json. It imports nothing of Carta, so that the
// small client package can use it.
package jsonscan
