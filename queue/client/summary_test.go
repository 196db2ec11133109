package client_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/carta-letters/carta/queue/client"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		job  string
		want client.Summary
	}{
		{"unknown fields and a wrong type elsewhere",
			`{"schema":"letter/v1","id":"x","layout":"din5008-a","title":"Note","letter":{"x":1,"date":"2023-01-09","recipients":[{"name":"Mélanie Joly","address":7},{"name":3}],"body":"oops"}}`,
			client.Summary{Title: "Note", Recipients: []string{"Mélanie Joly"}, Date: "2023-01-09", Layout: "din5008-a"}},
		{"title falls back to the headline, date to the statement",
			`{"statement":{"headline":"CSOs urge leaders","date":"2023-01-09"},"letter":{"subject":"S","recipients":[{"name":"A"}]}}`,
			client.Summary{Title: "CSOs urge leaders", Recipients: []string{"A"}, Date: "2023-01-09"}},
		{"title falls back to the first recipient",
			`{"letter":{"recipients":[{"name":" Justin Trudeau "}]}}`,
			client.Summary{Title: "Justin Trudeau", Recipients: []string{"Justin Trudeau"}}},
		{"not JSON", `{"title":`, client.Summary{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := client.Summarize([]byte(tc.job)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Summarize = %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("long values are cut", func(t *testing.T) {
		t.Parallel()
		got := client.Summarize([]byte(`{"title":"` + strings.Repeat("é", 3000) + `"}`))
		if len(got.Title) > 4096 || !strings.HasPrefix(got.Title, "éé") {
			t.Errorf("title of %d bytes", len(got.Title))
		}
	})
}
