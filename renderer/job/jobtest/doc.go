// Package jobtest gives tests of every package the malformed-job corpus
// of package job: renderer/job/testdata/invalid, each file with the field
// and message fragment its refusal must name in cases.json. The CLI, the
// worker and the HTTP API run the same corpus through this one loader.
package jobtest
