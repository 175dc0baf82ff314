package verify

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math/rand"
	"testing"
)

func gz(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// TestGunzipMatchesTheStandardLibrary checks the built-in decompressor
// (pure Go, or ISA-L with -tags isal) against compress/gzip on valid and
// broken streams: the same bytes out, and an error exactly when it errs.
func TestGunzipMatchesTheStandardLibrary(t *testing.T) {
	rnd := make([]byte, 3*chunkSize+17)
	rand.New(rand.NewSource(3)).Read(rnd)
	text := bytes.Repeat([]byte("layer content compresses well. "), 40000)
	one := gz(t, text)
	badCRC := append([]byte(nil), one...)
	badCRC[len(badCRC)-5] ^= 0xff
	badSize := append([]byte(nil), one...)
	binary.LittleEndian.PutUint32(badSize[len(badSize)-4:], 7)
	cases := map[string][]byte{
		"one member":        one,
		"random":            gz(t, rnd),
		"empty":             gz(t, nil),
		"two members":       append(gz(t, text[:1000]), gz(t, text[1000:])...),
		"empty member":      append(gz(t, nil), gz(t, text)...),
		"trailing garbage":  append(append([]byte(nil), one...), "garbage!"...),
		"trailing zeros":    append(append([]byte(nil), one...), make([]byte, 512)...),
		"truncated trailer": one[:len(one)-6],
		"truncated middle":  one[:len(one)/2],
		"header only":       one[:10],
		"bad crc":           badCRC,
		"bad size":          badSize,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			var want []byte
			var wantErr error
			if zr, err := gzip.NewReader(bytes.NewReader(in)); err != nil {
				wantErr = err
			} else {
				want, wantErr = io.ReadAll(zr)
			}
			var got bytes.Buffer
			zr, closeFn, err := newGunzip(bytes.NewReader(in))
			if err == nil {
				_, err = zr.WriteTo(&got)
				closeFn()
			}
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("%s: error %v, compress/gzip says %v", gunzipEngine, err, wantErr)
			}
			if wantErr == nil && !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("%s: %d bytes out, compress/gzip gives %d", gunzipEngine, got.Len(), len(want))
			}
		})
	}
}

func BenchmarkGunzip(b *testing.B) {
	data := make([]byte, 32<<20)
	r := rand.New(rand.NewSource(4))
	for i := range data {
		data[i] = "abcdefghij klmnop\n"[r.Intn(18)]
	}
	in := gz(b, data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		zr, closeFn, err := newGunzip(bytes.NewReader(in))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := zr.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
		closeFn()
	}
	b.Log(gunzipEngine)
}

// The reason given for a broken stream does not depend on the engine.
func TestDecompressReasonIsEngineIndependent(t *testing.T) {
	text := bytes.Repeat([]byte("layer content compresses well. "), 4000)
	one := gz(t, text)
	badCRC := append([]byte(nil), one...)
	badCRC[len(badCRC)-5] ^= 0xff
	corrupt := append([]byte(nil), one...)
	corrupt[20] ^= 0xff
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"checksum":  {badCRC, "the gzip trailer's CRC-32 or length does not match the data"},
		"trailing":  {append(append([]byte(nil), one...), "garbage after the last gzip member"...), "invalid gzip header, or bytes after the last gzip member that are not another member"},
		"truncated": {one[:len(one)-6], "the compressed stream ends early"},
	} {
		zr, closeFn, err := newGunzip(bytes.NewReader(tc.in))
		if err == nil {
			_, err = zr.WriteTo(io.Discard)
			closeFn()
		}
		if err == nil || decompressReason(err) != tc.want {
			t.Errorf("%s (%s): %v gives %q, want %q", name, gunzipEngine, err, decompressReason(err), tc.want)
		}
	}
	zr, closeFn, err := newGunzip(bytes.NewReader(corrupt))
	if err == nil {
		_, err = zr.WriteTo(io.Discard)
		closeFn()
	}
	if err == nil {
		t.Fatal("corrupt stream accepted")
	}
	t.Logf("%s: corrupt stream: %s", gunzipEngine, decompressReason(err))
}
