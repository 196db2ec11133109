package fonts

// Data returns the face's whole font file (TrueType/OpenType bytes), for
// drawing it outside the PDF (the staff page's previews). It is shared:
// callers must not modify it.
func (f *Face) Data() []byte { return f.data }
