//go:build !(isal && cgo)

package verify

import (
	"bufio"
	"io"

	"github.com/klauspost/compress/gzip"
)

// gunzipEngine names the gzip decompressor built in.
const gunzipEngine = "klauspost/compress"

// newGunzip returns a multi-member gzip decompressor over r. A large buffer
// lets the reading side hand over whole chunks, so reading overlaps with
// inflating instead of alternating with it.
func newGunzip(r io.Reader) (io.WriterTo, func(), error) {
	zr, err := gzip.NewReader(bufio.NewReaderSize(r, chunkSize))
	if err != nil {
		return nil, nil, err
	}
	return zr, func() { zr.Close() }, nil
}
