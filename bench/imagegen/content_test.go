package imagegen

import (
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func BenchmarkContent(b *testing.B) {
	for _, k := range []Kind{Random, Binary, Source, Log} {
		b.Run(k.String(), func(b *testing.B) {
			c := newContent(k, 1)
			buf := make([]byte, 1<<20)
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				c.Read(buf)
			}
		})
	}
}

// TestRatios checks that each kind compresses within its intended range,
// so the images mix incompressible and compressible content.
func TestRatios(t *testing.T) {
	want := map[Kind][2]float64{Random: {0.99, 1.01}, Binary: {1.8, 4}, Source: {2, 6}, Log: {3, 8}}
	for _, k := range []Kind{Random, Binary, Source, Log} {
		c := newContent(k, 1)
		var out bytes.Buffer
		gw, _ := gzip.NewWriterLevel(&out, gzip.DefaultCompression)
		io.CopyN(gw, c, 8<<20)
		gw.Close()
		r := float64(8<<20) / float64(out.Len())
		if r < want[k][0] || r > want[k][1] {
			t.Errorf("%s: gzip ratio %.2f, want %.2f..%.2f", k, r, want[k][0], want[k][1])
		}
	}
}
