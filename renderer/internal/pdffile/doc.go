// Package pdffile reads and incrementally updates the PDF files Carta
// itself writes.
//
// Carta draws letters with fpdf, whose catalog, page dictionaries and
// trailer are fixed; what fpdf cannot write (ToUnicode maps, the PDF/A
// output intent and metadata, the structure tree of a tagged PDF) is
// added by one incremental update (PDF 32000-1:2008, 7.5.6): new objects
// and new versions of existing ones appended after fpdf's %%EOF, with
// their own cross-reference section and a trailer whose /Prev points at
// fpdf's.
//
// Parse reads a file's last cross-reference section and trailer;
// Previous reads the section before, and Latest finds an object in
// the newest section that has it (as renderer/sign needs of a file
// Carta has already updated, or signed). Parse understands the
// classic cross-reference tables fpdf and Carta write, not
// cross-reference streams, so it is no general PDF parser, and it is
// not meant for files from elsewhere. Update (in place, for the
// renderer) and UpdateCopy (on a copy, for renderer/sign, which fills
// in a signature after the update is written) append objects and
// finish with the cross-reference section and trailer. No library
// reachable here does this without rewriting the whole file (pdfcpu
// rewrites, and fpdf cannot read PDFs), and a rewrite would cost more
// than the render; the format is small and the tests read every
// result back with poppler, qpdf and Apache PDFBox Preflight.
package pdffile
