// Package renderer turns a letter/v1 job into PDF bytes.
//
// Rendering is three steps, each its own package: renderer/job decodes and
// validates the JSON job (refusing it whole, with field paths, when it is
// wrong), layouts positions every glyph run, rule and image on pages using
// the metrics of the fonts package, and renderer/pdf draws that geometry
// with fpdf, embedding per-letter font subsets. Render is a pure function
// of the job: no I/O, no clock, no global state, byte-identical output.
package renderer
