// Package demo holds the embedded defaults of "carta demo" and "carta
// bench": the reference letter job, a copy of jobs/nals-2023.json of the
// job format (a joint letter with its press statement, three heads of
// state, eleven demands and 95 signatory organisations).
package demo

import _ "embed"

// ReferenceJob is the reference letter/v1 job, byte for byte.
//
//go:embed nals-2023.json
var ReferenceJob []byte
