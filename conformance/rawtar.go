package conformance

import (
	"archive/tar"
	"bytes"
	"strconv"
	"strings"
)

// rawHeader checks the raw ustar header block of one entry, as the source
// layer's tar reader stored it, for fields that tar readers read
// differently: a PAX size that disagrees with the ustar size field
// (readers that ignore one or the other see different entries, as in
// CVE-2025-62518), and data declared on header-only entries such as
// directories and links. It returns false once the rest of the archive is
// not to be checked (after a GNU sparse entry, flagged by OCI-LAYER-004).
func rawHeader(h *tar.Header, b []byte, found *[]Violation) bool {
	if len(b) != 512 {
		return true
	}
	size, ok := tarNumber(b[124:136])
	if !ok || size < 0 {
		return false // archive/tar reports the bad header
	}
	name := cString(b[0:100])
	if prefix := cString(b[345:500]); prefix != "" && string(b[257:262]) == "ustar" {
		name = prefix + "/" + name
	}
	paxSize := int64(-1)
	if v, ok := h.PAXRecords["size"]; ok {
		if x, err := strconv.ParseInt(v, 10, 64); err == nil {
			paxSize = x
		}
	}
	switch b[156] {
	case 'g':
		return true
	case 'S':
		return false
	case '1', '2', '3', '4', '5', '6':
		if size != 0 {
			*found = append(*found, Violation{Rule: ociLAYER016.String(), id: ociLAYER016, Entry: name,
				Message: "header-only entry declares " + strconv.FormatInt(size, 10) + " bytes of data; tar readers disagree on whether to skip them"})
		}
		if paxSize > 0 {
			*found = append(*found, Violation{Rule: ociLAYER016.String(), id: ociLAYER016, Entry: name, Message: "PAX size on a header-only entry"})
		}
	default:
		if paxSize >= 0 && paxSize != size && size <= 0o77777777777 {
			*found = append(*found, Violation{Rule: ociLAYER016.String(), id: ociLAYER016, Entry: name,
				Message: "PAX size " + strconv.FormatInt(paxSize, 10) + " disagrees with the ustar size " + strconv.FormatInt(size, 10) + "; tar readers see different entries"})
		}
	}
	return true
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
