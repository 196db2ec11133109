package client

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Summary is what a list of letters shows of a job: its title, its
// recipients' names, the letter's own date and its layout.
type Summary struct {
	Title      string
	Recipients []string
	Date       string // the letter's date (letter.date, else statement.date), YYYY-MM-DD as written
	Layout     string // the layout named by the job, "" for the default
}

// Limits of Summarize, so that a summary of a hostile job stays small.
const (
	summaryMaxString     = 4096 // bytes of any one string
	summaryMaxRecipients = 50
)

// Summarize reads the summary of a job's JSON leniently: whatever can be
// read is kept, and a field of the wrong type, an unknown field or a
// broken neighbour does not hide the others. It is meant for jobs that
// failed validation or layout, whose result should still say which
// letter they were. The title follows job.Job.DocTitle: title, else
// statement.headline, else letter.subject, else the first recipient.
func Summarize(jobJSON []byte) Summary {
	var top struct {
		Layout    json.RawMessage `json:"layout"`
		Title     json.RawMessage `json:"title"`
		Statement struct {
			Headline json.RawMessage `json:"headline"`
			Date     json.RawMessage `json:"date"`
		} `json:"statement"`
		Letter struct {
			Date       json.RawMessage   `json:"date"`
			Subject    json.RawMessage   `json:"subject"`
			Recipients []json.RawMessage `json:"recipients"`
		} `json:"letter"`
	}
	// Unmarshal keeps what it decoded before a type error; raw values
	// are decoded one by one below.
	_ = json.Unmarshal(jobJSON, &top)
	var s Summary
	s.Layout = rawString(top.Layout)
	s.Date = rawString(top.Letter.Date)
	if s.Date == "" {
		s.Date = rawString(top.Statement.Date)
	}
	for _, r := range top.Letter.Recipients {
		if len(s.Recipients) == summaryMaxRecipients {
			break
		}
		var p struct {
			Name json.RawMessage `json:"name"`
		}
		if json.Unmarshal(r, &p) == nil {
			if n := rawString(p.Name); n != "" {
				s.Recipients = append(s.Recipients, n)
			}
		}
	}
	for _, t := range []json.RawMessage{top.Title, top.Statement.Headline, top.Letter.Subject} {
		if s.Title = rawString(t); s.Title != "" {
			break
		}
	}
	if s.Title == "" && len(s.Recipients) > 0 {
		s.Title = s.Recipients[0]
	}
	return s
}

// rawString decodes a JSON string, trimmed and cut to summaryMaxString
// bytes; anything else is "".
func rawString(raw json.RawMessage) string {
	var v string
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return ""
	}
	v = strings.TrimSpace(strings.ToValidUTF8(v, "\uFFFD"))
	if len(v) > summaryMaxString {
		v = v[:summaryMaxString]
		for !utf8.ValidString(v) {
			v = v[:len(v)-1]
		}
	}
	return v
}
