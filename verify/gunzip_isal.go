//go:build isal && cgo

package verify

/*
#cgo LDFLAGS: -lisal
#include <stdlib.h>
#include <isa-l/igzip_lib.h>

static struct inflate_state *imgproof_inflate_new(void) {
	struct inflate_state *s = calloc(1, sizeof(struct inflate_state));
	if (s) {
		isal_inflate_init(s);
		s->crc_flag = ISAL_GZIP;
	}
	return s;
}

static void imgproof_inflate_reset(struct inflate_state *s) {
	isal_inflate_reset(s);
	s->crc_flag = ISAL_GZIP;
}

static int imgproof_inflate_finished(struct inflate_state *s) {
	return s->block_state == ISAL_BLOCK_FINISH;
}
*/
import "C"

import (
	"errors"
	"io"
	"unsafe"

	"github.com/klauspost/compress/gzip"
)

// gunzipEngine names the gzip decompressor built in.
const gunzipEngine = "isa-l"

// isalGunzip decompresses multi-member gzip with Intel ISA-L. It checks
// every member's CRC-32 and size, and fails on anything after the last
// member that is not another member, as the pure-Go decompressor does.
type isalGunzip struct {
	r     io.Reader
	state *C.struct_inflate_state
	in    unsafe.Pointer
	out   unsafe.Pointer
}

const isalBuf = chunkSize

func newGunzip(r io.Reader) (io.WriterTo, func(), error) {
	z := &isalGunzip{r: r, state: C.imgproof_inflate_new(), in: C.malloc(isalBuf), out: C.malloc(isalBuf)}
	if z.state == nil || z.in == nil || z.out == nil {
		z.free()
		return nil, nil, errors.New("isa-l: out of memory")
	}
	return z, z.free, nil
}

func (z *isalGunzip) free() {
	C.free(unsafe.Pointer(z.state))
	C.free(z.in)
	C.free(z.out)
	z.state, z.in, z.out = nil, nil, nil
}

func (z *isalGunzip) WriteTo(w io.Writer) (int64, error) {
	in := unsafe.Slice((*byte)(z.in), isalBuf)
	out := unsafe.Slice((*byte)(z.out), isalBuf)
	var total int64
	eof, inMember, members, outFull := false, false, 0, false
	for {
		if z.state.avail_in == 0 && !eof {
			n, err := io.ReadFull(z.r, in)
			switch err {
			case nil:
			case io.EOF, io.ErrUnexpectedEOF:
				eof = true
			default:
				return total, err
			}
			z.state.next_in = (*C.uint8_t)(z.in)
			z.state.avail_in = C.uint32_t(n)
		}
		if z.state.avail_in == 0 && eof && !outFull {
			if inMember || members == 0 {
				return total, io.ErrUnexpectedEOF
			}
			return total, nil
		}
		if !inMember {
			if members > 0 {
				// More input after a finished member: it must be another member.
				C.imgproof_inflate_reset(z.state)
			}
			inMember = true
		}
		z.state.next_out = (*C.uint8_t)(z.out)
		z.state.avail_out = C.uint32_t(isalBuf)
		availIn := z.state.avail_in
		ret := C.isal_inflate(z.state)
		produced := isalBuf - int(z.state.avail_out)
		if ret == C.ISAL_DECOMP_OK && produced == 0 && z.state.avail_in == availIn && !z.finished() && (availIn > 0 || eof) {
			return total, io.ErrUnexpectedEOF
		}
		outFull = produced == isalBuf
		if produced > 0 {
			total += int64(produced)
			if _, err := w.Write(out[:produced]); err != nil {
				return total, err
			}
		}
		if ret != C.ISAL_DECOMP_OK {
			return total, isalError(ret)
		}
		if z.finished() {
			inMember, outFull = false, false
			members++
		}
	}
}

func (z *isalGunzip) finished() bool { return C.imgproof_inflate_finished(z.state) != 0 }

// isalError maps ISA-L's return codes to the errors the pure-Go engine
// gives, so that reports do not depend on the build.
func isalError(ret C.int) error {
	switch ret {
	case C.ISAL_INVALID_WRAPPER, C.ISAL_UNSUPPORTED_METHOD:
		return gzip.ErrHeader
	case C.ISAL_INCORRECT_CHECKSUM:
		return gzip.ErrChecksum
	}
	return errCorruptDeflate
}
