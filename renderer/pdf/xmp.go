package pdf

import (
	"time"
	"unicode/utf8"
)

// Provenance says which job, layout, fonts and program made a document.
// Write records it, when Options.Provenance is set, in the document's XMP
// metadata (see XMPNamespace); every field is written as given, even
// when empty.
type Provenance struct {
	// JobID is the job's id.
	JobID string
	// JobSHA256 is the lowercase hex SHA-256 of the canonical job
	// (renderer.CanonicalJobSHA256).
	JobSHA256 string
	// Layout is the name of the layout that laid the letter out, the
	// job's layout or the default, e.g. "letter".
	Layout string
	// LayoutVersion is that layout's version (layouts.Layout.Version),
	// e.g. "1".
	LayoutVersion string
	// Fonts lists the font families this PDF draws with, in order of
	// first use, each with the font file's own version (fonts.Face.Version):
	// the primary family and the fallbacks actually used, e.g.
	// "Liberation Serif 2.1.4, DejaVu Sans 2.37".
	Fonts string
	// FontModules is fonts.Modules: the Go modules the fonts come from,
	// with their versions.
	FontModules string
	// CartaVersion is Carta's version (renderer.Version), e.g. "0.1.0".
	CartaVersion string
}

// XMPNamespace is the XML namespace of Carta's provenance properties in
// the XMP metadata, bound to the prefix "carta": carta:jobId,
// carta:jobSHA256, carta:layout, carta:layoutVersion, carta:fonts,
// carta:fontModules and carta:version, one per Provenance field.
const XMPNamespace = "https://carta.invalid/ns/provenance/1.0/"

// appendXMP appends the XMP packet (ISO 16684-1) of a document: the
// PDF/A identification (part 1, conformance B), the Dublin Core, PDF and
// XMP basic properties that mirror the document information dictionary,
// then the provenance when pv is set, with the PDF/A extension schema
// (ISO 19005-1:2005, 6.7.8) that describes its namespace. It is
// deterministic: the same arguments give the same bytes.
func appendXMP(b []byte, m metaFields, pv *Provenance, ua bool) []byte {
	b = append(b, "<?xpacket begin=\"\uFEFF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"+
		"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"+
		" <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"+
		"  <rdf:Description rdf:about=\"\"\n"+
		"    xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n"+
		"   <pdfaid:part>1</pdfaid:part>\n"+
		"   <pdfaid:conformance>B</pdfaid:conformance>\n"+
		"  </rdf:Description>\n"...)
	if ua {
		b = append(b, "  <rdf:Description rdf:about=\"\"\n"+
			"    xmlns:pdfuaid=\"http://www.aiim.org/pdfua/ns/id/\">\n"+
			"   <pdfuaid:part>1</pdfuaid:part>\n"+
			"  </rdf:Description>\n"...)
	}
	if pv != nil || ua {
		b = appendExtensionSchemas(b, pv != nil, ua)
	}
	b = append(b, "  <rdf:Description rdf:about=\"\"\n"+
		"    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"+
		"    xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\"\n"+
		"    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\""...)
	if pv != nil {
		b = append(b, "\n    xmlns:carta=\""+XMPNamespace+"\""...)
	}
	b = append(b, ">\n   <dc:format>application/pdf</dc:format>\n"...)
	if m.title != "" {
		b = append(b, "   <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">"...)
		b = appendXMLText(b, m.title)
		b = append(b, "</rdf:li></rdf:Alt></dc:title>\n"...)
	}
	if m.author != "" {
		b = append(b, "   <dc:creator><rdf:Seq><rdf:li>"...)
		b = appendXMLText(b, m.author)
		b = append(b, "</rdf:li></rdf:Seq></dc:creator>\n"...)
	}
	if m.subject != "" {
		b = append(b, "   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">"...)
		b = appendXMLText(b, m.subject)
		b = append(b, "</rdf:li></rdf:Alt></dc:description>\n"...)
	}
	if m.language != "" {
		b = append(b, "   <dc:language><rdf:Bag><rdf:li>"...)
		b = appendXMLText(b, m.language)
		b = append(b, "</rdf:li></rdf:Bag></dc:language>\n"...)
	}
	if m.keywords != "" {
		b = appendProp(b, "pdf:Keywords", m.keywords)
	}
	b = appendProp(b, "pdf:Producer", m.producer)
	if m.creator != "" {
		b = appendProp(b, "xmp:CreatorTool", m.creator)
	}
	date := xmpDate(m.date)
	b = appendProp(b, "xmp:CreateDate", date)
	b = appendProp(b, "xmp:ModifyDate", date)
	b = appendProp(b, "xmp:MetadataDate", date)
	if pv != nil {
		b = appendProp(b, "carta:jobId", pv.JobID)
		b = appendProp(b, "carta:jobSHA256", pv.JobSHA256)
		b = appendProp(b, "carta:layout", pv.Layout)
		b = appendProp(b, "carta:layoutVersion", pv.LayoutVersion)
		b = appendProp(b, "carta:fonts", pv.Fonts)
		b = appendProp(b, "carta:fontModules", pv.FontModules)
		b = appendProp(b, "carta:version", pv.CartaVersion)
	}
	return append(b, "  </rdf:Description>\n"+
		" </rdf:RDF>\n"+
		"</x:xmpmeta>\n"+
		"<?xpacket end=\"r\"?>"...)
}

// xmpProvenanceProps names and describes the properties of XMPNamespace.
var xmpProvenanceProps = [...][2]string{
	{"jobId", "The id of the job that made this document"},
	{"jobSHA256", "Lowercase hex SHA-256 of the canonical job"},
	{"layout", "Name of the layout that laid the letter out"},
	{"layoutVersion", "Version of that layout"},
	{"fonts", "Font families drawn with, with the font files' versions"},
	{"fontModules", "Go modules the fonts come from, with their versions"},
	{"version", "Version of Carta"},
}

// appendExtensionSchemas appends the PDF/A extension schema
// descriptions (ISO 19005-1:2005, 6.7.8), which PDF/A requires for every
// namespace it does not predefine: XMPNamespace's when carta is set, the
// PDF/UA identification's when ua is.
func appendExtensionSchemas(b []byte, carta, ua bool) []byte {
	b = append(b, "  <rdf:Description rdf:about=\"\"\n"+
		"    xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\"\n"+
		"    xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\"\n"+
		"    xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\n"+
		"   <pdfaExtension:schemas><rdf:Bag>\n"...)
	prop := func(b []byte, name, typ, category, desc string) []byte {
		return append(b, "      <rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>"+name+
			"</pdfaProperty:name><pdfaProperty:valueType>"+typ+"</pdfaProperty:valueType>"+
			"<pdfaProperty:category>"+category+"</pdfaProperty:category><pdfaProperty:description>"+desc+
			"</pdfaProperty:description></rdf:li>\n"...)
	}
	if carta {
		b = append(b, "    <rdf:li rdf:parseType=\"Resource\">\n"+
			"     <pdfaSchema:schema>Carta provenance</pdfaSchema:schema>\n"+
			"     <pdfaSchema:namespaceURI>"+XMPNamespace+"</pdfaSchema:namespaceURI>\n"+
			"     <pdfaSchema:prefix>carta</pdfaSchema:prefix>\n"+
			"     <pdfaSchema:property><rdf:Seq>\n"...)
		for _, p := range xmpProvenanceProps {
			b = prop(b, p[0], "Text", "external", p[1])
		}
		b = append(b, "     </rdf:Seq></pdfaSchema:property>\n    </rdf:li>\n"...)
	}
	if ua {
		b = append(b, "    <rdf:li rdf:parseType=\"Resource\">\n"+
			"     <pdfaSchema:schema>PDF/UA identification schema</pdfaSchema:schema>\n"+
			"     <pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>\n"+
			"     <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>\n"+
			"     <pdfaSchema:property><rdf:Seq>\n"...)
		b = prop(b, "part", "Integer", "internal", "Part of ISO 14289 the document conforms to")
		b = append(b, "     </rdf:Seq></pdfaSchema:property>\n    </rdf:li>\n"...)
	}
	return append(b, "   </rdf:Bag></pdfaExtension:schemas>\n"+
		"  </rdf:Description>\n"...)
}

// metaFields are the document-level values the XMP packet mirrors.
type metaFields struct {
	title, author, subject, language, keywords string
	creator, producer                          string
	date                                       time.Time
}

// appendProp appends a simple property element <name>value</name>.
func appendProp(b []byte, name, value string) []byte {
	b = append(b, "   <"...)
	b = append(b, name...)
	b = append(b, '>')
	b = appendXMLText(b, value)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, ">\n"...)
}

// appendXMLText appends s as XML character data: &, <, > and both quotes
// escaped, tab, newline and carriage return as character references (so
// no XML processor folds them), and every character XML 1.0 forbids, or
// invalid UTF-8, as U+FFFD.
func appendXMLText(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '"':
				b = append(b, "&quot;"...)
			case c == '\'':
				b = append(b, "&apos;"...)
			case c == '\t':
				b = append(b, "&#x9;"...)
			case c == '\n':
				b = append(b, "&#xA;"...)
			case c == '\r':
				b = append(b, "&#xD;"...)
			case c < 0x20:
				b = append(b, "\uFFFD"...)
			default:
				b = append(b, c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r >= 0xFFFE && r <= 0xFFFF {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}
