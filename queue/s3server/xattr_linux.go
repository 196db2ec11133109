package s3server

import (
	"errors"
	"syscall"
)

// metaAttr is the extended attribute holding an object's metadata JSON.
const metaAttr = "user.carta-s3.meta"

// setMetaAttr stores metadata on the file at path. It fails, and the
// caller falls back to a .meta file, where the file system has no user
// extended attributes or the metadata is too large for them.
func setMetaAttr(path string, data []byte) error {
	return syscall.Setxattr(path, metaAttr, data, 0)
}

// metaAttrOf returns the metadata stored on the file at path, or
// errNoAttr.
func metaAttrOf(path string) ([]byte, error) {
	buf := make([]byte, 2048)
	for {
		n, err := syscall.Getxattr(path, metaAttr, buf)
		switch {
		case err == nil:
			return buf[:n], nil
		case errors.Is(err, syscall.ERANGE) && len(buf) < 1<<16:
			buf = make([]byte, 1<<16)
		case errors.Is(err, syscall.ENODATA), errors.Is(err, syscall.ENOTSUP):
			return nil, errNoAttr
		default:
			return nil, err
		}
	}
}
