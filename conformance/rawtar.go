package conformance

import (
	"bytes"
	"strconv"
	"strings"
)

// rawScan follows a tar stream block by block, independently of
// archive/tar, to find headers that tar readers read differently: a PAX
// size that disagrees with the ustar size field (readers that ignore one
// or the other see different entries, as in CVE-2025-62518), and data
// declared on header-only entries such as directories and links. It only
// looks at headers; it stops at the end-of-archive marker or at anything
// it does not follow (sparse maps).
type rawScan struct {
	block   [512]byte
	n       int   // bytes in block
	skip    int64 // data and padding still to pass over
	pax     []byte
	paxLeft int64 // PAX record bytes still to collect
	paxPad  int64
	paxSize int64 // size from the pending PAX header; -1 if none
	done    bool
	found   []Violation
	maxPAX  int64 // limits.TarHeader: larger PAX records end the scan
}

func newRawScan(maxPAX int64) *rawScan { return &rawScan{paxSize: -1, maxPAX: maxPAX} }

func (s *rawScan) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 && !s.done {
		switch {
		case s.paxLeft > 0:
			k := min(int64(len(p)), s.paxLeft)
			s.pax = append(s.pax, p[:k]...)
			s.paxLeft -= k
			p = p[k:]
			if s.paxLeft == 0 {
				s.paxSize = paxSize(s.pax)
				s.pax = s.pax[:0]
				s.skip = s.paxPad
			}
		case s.skip > 0:
			k := min(int64(len(p)), s.skip)
			s.skip -= k
			p = p[k:]
		default:
			k := copy(s.block[s.n:], p)
			s.n += k
			p = p[k:]
			if s.n == 512 {
				s.n = 0
				s.header()
			}
		}
	}
	return total, nil
}

func (s *rawScan) header() {
	b := s.block[:]
	if bytes.Count(b, []byte{0}) == 512 {
		s.done = true
		return
	}
	size, ok := tarNumber(b[124:136])
	if !ok || size < 0 {
		s.done = true // archive/tar reports the bad header
		return
	}
	name := cString(b[0:100])
	if prefix := cString(b[345:500]); prefix != "" && string(b[257:262]) == "ustar" {
		name = prefix + "/" + name
	}
	pad := (512 - size%512) % 512
	switch flag := b[156]; flag {
	case 'x':
		if size > s.maxPAX {
			s.done = true
			return
		}
		s.paxLeft, s.paxPad = size, pad
		if size == 0 {
			s.skip = pad
		}
		return
	case 'g', 'L', 'K':
		s.skip = size + pad
		return
	case 'S':
		s.done = true // GNU sparse maps: flagged by OCI-LAYER-004
		return
	case '1', '2', '3', '4', '5', '6':
		if size != 0 {
			s.found = append(s.found, Violation{Rule: "OCI-LAYER-016", Entry: name,
				Message: "header-only entry declares " + strconv.FormatInt(size, 10) + " bytes of data; tar readers disagree on whether to skip them"})
		}
		size, pad = 0, 0
		if s.paxSize > 0 {
			s.found = append(s.found, Violation{Rule: "OCI-LAYER-016", Entry: name, Message: "PAX size on a header-only entry"})
		}
	default:
		if s.paxSize >= 0 {
			if s.paxSize != size && size <= 0o77777777777 {
				s.found = append(s.found, Violation{Rule: "OCI-LAYER-016", Entry: name,
					Message: "PAX size " + strconv.FormatInt(s.paxSize, 10) + " disagrees with the ustar size " + strconv.FormatInt(size, 10) + "; tar readers see different entries"})
			}
			size = s.paxSize
			pad = (512 - size%512) % 512
		}
	}
	s.paxSize = -1
	s.skip = size + pad
}

// tarNumber reads an octal or base-256 numeric field.
func tarNumber(f []byte) (int64, bool) {
	if len(f) > 0 && f[0]&0x80 != 0 {
		var v int64
		for i, c := range f {
			if i == 0 {
				c &= 0x7f
			}
			if v > (1<<55)-1 {
				return 0, false
			}
			v = v<<8 | int64(c)
		}
		return v, true
	}
	s := strings.Trim(string(f), " \x00")
	if s == "" {
		return 0, true
	}
	v, err := strconv.ParseInt(s, 8, 64)
	return v, err == nil
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// paxSize returns the size record of PAX data, or -1.
func paxSize(data []byte) int64 {
	size := int64(-1)
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 {
			return size
		}
		n, err := strconv.Atoi(string(data[:sp]))
		if err != nil || n <= sp || n > len(data) {
			return size
		}
		rec := strings.TrimSuffix(string(data[sp+1:n]), "\n")
		if k, v, ok := strings.Cut(rec, "="); ok && k == "size" {
			if x, err := strconv.ParseInt(v, 10, 64); err == nil {
				size = x
			}
		}
		data = data[n:]
	}
	return size
}
