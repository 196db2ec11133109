package queuetest

import (
	"encoding/json"
	"fmt"
)

// Job returns a small valid letter/v1 job with the given id, its names
// accented as real ones are.
func Job(id string) []byte {
	j := map[string]any{
		"schema": "letter/v1",
		"id":     id,
		"locale": "es-MX",
		"letterhead": map[string]any{
			"name":  "Comitė Ciudadano",
			"lines": []string{"Av. Reforma 123, Ciudad de México"},
		},
		"letter": map[string]any{
			"date":       "2023-01-09",
			"recipients": []map[string]any{{"honorific": "Lic.", "name": "Andrés Manuel López Obrador", "title": "Presidente"}, {"name": "Mélanie Joly"}},
			"subject":    fmt.Sprintf("Carta %s", id),
			"salutation": "Estimado Presidente López Obrador:",
			"body":       []map[string]any{{"text": "Le escribimos en nombre de **Comitė Ciudadano** para pedir una reunión."}, {"list": []string{"Agua", "Aire"}, "numbered": true}},
			"closing":    "Atentamente,",
			"signers":    []map[string]any{{"name": "Zoë Ñúñez", "title": "Coordinadora"}},
		},
	}
	b, err := json.Marshal(j)
	if err != nil {
		panic(err)
	}
	return b
}

// InvalidJob returns a job with the given id that has no recipients.
func InvalidJob(id string) []byte {
	return []byte(fmt.Sprintf(`{"schema":"letter/v1","id":%q,"letterhead":{"name":"Comitė Ciudadano"},`+
		`"letter":{"recipients":[],"salutation":"Hola:","body":[{"text":"x"}],"closing":"Atentamente,"}}`, id))
}
