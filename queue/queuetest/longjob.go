package queuetest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/carta-letters/carta/queue/s3store"
)

// LongJob returns a valid letter/v1 job with the given id that takes the
// renderer a long while: paragraphs body paragraphs of about 1.5 KB and
// entries signatory organisations of two members each. LongJob(id, 150,
// 2000) is about 430 KB and 100 pages, a few hundred milliseconds of
// rendering.
func LongJob(id string, paragraphs, entries int) []byte {
	body := make([]map[string]any, paragraphs)
	for i := range body {
		body[i] = map[string]any{"text": fmt.Sprintf("Párrafo %d. ", i+1) +
			strings.Repeat("Le escribimos en nombre de **Comitė Ciudadano** para pedir una reunión con *Mélanie Joly*. ", 16)}
	}
	list := make([]map[string]any, entries)
	for i := range list {
		list[i] = map[string]any{
			"name":    fmt.Sprintf("Comitė Ciudadano de Coyoacán número %d", i+1),
			"members": []string{"Zoë Ñúñez", "Andrés López"},
		}
	}
	j := map[string]any{
		"schema": "letter/v1",
		"id":     id,
		"locale": "es-MX",
		"letterhead": map[string]any{
			"name":  "Comitė Ciudadano",
			"lines": []string{"Av. Reforma 123, Ciudad de México"},
		},
		"letter": map[string]any{
			"date":        "2023-01-09",
			"recipients":  []map[string]any{{"honorific": "Lic.", "name": "Andrés Manuel López Obrador", "title": "Presidente"}},
			"subject":     "Carta " + id,
			"salutation":  "Estimado Presidente López Obrador:",
			"body":        body,
			"closing":     "Atentamente,",
			"signatories": map[string]any{"heading": "Organizaciones firmantes", "columns": 3, "entries": list},
		},
	}
	b, err := json.Marshal(j)
	if err != nil {
		panic(err)
	}
	return b
}

// StoreConfig is the s3store configuration Store uses for bucket at
// endpoint: the test credentials, path-style addressing and one attempt
// per request. Tests change what they need (RequestTimeout, say) and
// call s3store.New.
func StoreConfig(endpoint, bucket string) s3store.Config {
	return s3store.Config{
		Bucket: bucket, Endpoint: endpoint, Region: Region, PathStyle: true, MaxAttempts: 1,
		AccessKey: AccessKey, SecretKey: SecretKey,
	}
}
