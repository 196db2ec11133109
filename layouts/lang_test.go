package layouts

import "testing"

// TestScriptLang checks the element-language rule of lang.go on texts
// in letters of several languages.
func TestScriptLang(t *testing.T) {
	for _, c := range []struct {
		name, locale, text, want string
	}{
		{"Arabic name in an English letter", "en-GB", "أحمد بن محمد الخطيب", "ar"},
		{"Arabic name in an Arabic letter", "ar-EG", "أحمد بن محمد الخطيب", ""},
		{"Arabic-script name in a Persian letter", "fa-IR", "محمد رضایی", ""},
		{"Arabic-script name in an Urdu letter", "ur", "محمد علی", ""},
		{"Hebrew name in a French letter", "fr-FR", "דוד כהן", "he"},
		{"Hebrew name in a Yiddish letter", "yi", "דוד כהן", ""},
		{"Korean name in an English letter", "en-US", "김민준", "ko"},
		{"Korean with hanja", "en-US", "大韓民國 대한민국", "ko"},
		{"Korean name in a Korean letter", "ko-KR", "김민준", ""},
		{"kana and kanji in an English letter", "en-US", "山田 さくら", "ja"},
		{"kana in a Japanese letter", "ja-JP", "山田 さくら", ""},
		{"Han alone in an English letter", "en-US", "王小明", "zh"},
		{"Han alone in a Japanese letter", "ja-JP", "王小明", ""},
		{"Han alone in a Chinese letter", "zh-TW", "王小明", ""},
		{"Han alone in a Korean letter", "ko", "王小明", ""},
		{"Greek name in a German letter", "de-DE", "Γιώργος Παπαδόπουλος", "el"},
		{"Greek name in a Greek letter", "el-GR", "Γιώργος Παπαδόπουλος", ""},
		{"Cyrillic is never tagged", "en-GB", "Олена Шевченко", ""},
		{"Latin in an Arabic letter is never tagged", "ar-EG", "Global Refugee Coalition", ""},
		{"mostly English with a Chinese name in brackets", "en-US", "Asia Refugee Centre (亚洲难民中心)", ""},
		{"honorific and a Japanese name", "en-US", "H.E. 山田 さくら", "ja"},
		{"digits and punctuation do not count", "en-US", "2024 — 王小明, 12", "zh"},
		{"no letters", "en-US", "2024-09-12", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := &Elem{Role: "P"}
			doc := &Document{Meta: Meta{Language: c.locale}, Elems: []*Elem{e},
				Pages: []Page{{Texts: []Text{{S: c.text, Elem: e}}}}}
			markLangs(doc)
			if e.Lang != c.want {
				t.Errorf("%q in %s: Lang %q, want %q", c.text, c.locale, e.Lang, c.want)
			}
		})
	}
}
