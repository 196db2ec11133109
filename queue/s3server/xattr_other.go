//go:build !linux

package s3server

// setMetaAttr is not used outside Linux: metadata goes to .meta files.
func setMetaAttr(string, []byte) error { return errNoAttr }

func metaAttrOf(string) ([]byte, error) { return nil, errNoAttr }
