package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand"
	"strings"
	"syscall/js"
	"testing"

	"github.com/imgproof/imgproof/attest"
	"github.com/imgproof/imgproof/attest/policy"
	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/verify"
)

// jsBytes makes a JavaScript Blob holding p.
func jsBytes(p []byte) js.Value {
	u8 := js.Global().Get("Uint8Array").New(len(p))
	js.CopyBytesToJS(u8, p)
	return js.Global().Get("Blob").New([]any{u8})
}

// jsFile makes a JavaScript File named name holding p.
func jsFile(name string, p []byte) js.Value {
	u8 := js.Global().Get("Uint8Array").New(len(p))
	js.CopyBytesToJS(u8, p)
	return js.Global().Get("File").New([]any{u8}, name)
}

func TestJSBlobReadAt(t *testing.T) {
	data := make([]byte, 300_000)
	rand.New(rand.NewSource(1)).Read(data)
	b := newJSBlob(jsBytes(data))
	if b.Size() != int64(len(data)) {
		t.Fatalf("Size = %d, want %d", b.Size(), len(data))
	}
	for _, tc := range []struct {
		off, n int64
		want   int
		eof    bool
	}{
		{0, 10, 10, false},
		{12345, 100_000, 100_000, false},
		{int64(len(data)) - 5, 10, 5, true},
		{int64(len(data)), 10, 0, true},
	} {
		p := make([]byte, tc.n)
		n, err := b.ReadAt(p, tc.off)
		if n != tc.want || (err == io.EOF) != tc.eof || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v; want %d, eof=%v", tc.n, tc.off, n, err, tc.want, tc.eof)
		}
		if !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
			t.Fatalf("ReadAt(%d, %d): wrong bytes", tc.n, tc.off)
		}
	}
	if _, err := b.ReadAt(make([]byte, 1), -1); err == nil {
		t.Fatal("negative offset accepted")
	}
}

// nativeJSON is what the CLI prints for an archive, minus the newline: the
// same entry point over an in-memory reader.
func nativeJSON(t *testing.T, archive []byte, name string, opts *verify.Options) string {
	t.Helper()
	res := verify.Archive(context.Background(), bytes.NewReader(archive), int64(len(archive)), name, opts)
	out, err := json.MarshalIndent(res.Report, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func callRun(t *testing.T, input js.Value, opts map[string]any) (string, error) {
	t.Helper()
	args := []js.Value{input}
	if opts != nil {
		args = append(args, js.ValueOf(opts))
	}
	v, err := run(args, true)
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// checkExpected compares a report with the fixture's own recomputation,
// an oracle that shares no code with the verifier.
func checkExpected(t *testing.T, rep *verify.Report, want fixtures.Expected) {
	t.Helper()
	if rep.Verdict != verify.Verified {
		t.Fatalf("verdict %s, findings %v", rep.Verdict, rep.Findings)
	}
	if len(rep.Images) != len(want.Images) {
		t.Fatalf("%d images, want %d", len(rep.Images), len(want.Images))
	}
	for i, img := range rep.Images {
		w := want.Images[i]
		if img.ImageID != w.ImageID() || img.ManifestDigest == nil || *img.ManifestDigest != w.ManifestDigest {
			t.Fatalf("image %d: ID %s manifest %v, want %s %s", i, img.ImageID, img.ManifestDigest, w.ImageID(), w.ManifestDigest)
		}
		if len(img.Layers) != len(w.Layers) {
			t.Fatalf("image %d: %d layers, want %d", i, len(img.Layers), len(w.Layers))
		}
		for j, l := range img.Layers {
			if l.Digest != w.Layers[j].Digest || l.DiffID != w.Layers[j].DiffID || l.Size != w.Layers[j].Size {
				t.Fatalf("image %d layer %d: %+v, want %+v", i, j, l, w.Layers[j])
			}
		}
	}
	if want.IndexDigest != "" && (rep.IndexDigest == nil || *rep.IndexDigest != want.IndexDigest) {
		t.Fatalf("index digest %v, want %s", rep.IndexDigest, want.IndexDigest)
	}
}

func TestArchivesMatchCLIAndOracle(t *testing.T) {
	for _, spec := range []struct {
		name string
		spec fixtures.Spec
	}{{"single", fixtures.Default()}, {"multi", fixtures.MultiPlatform()}} {
		built := fixtures.MustBuild(spec.spec)
		for _, gz := range []bool{false, true} {
			var buf bytes.Buffer
			if err := built.WriteOCIArchive(&buf, gz); err != nil {
				t.Fatal(err)
			}
			name := spec.name + ".oci.tar"
			if gz {
				name += ".gz"
			}
			t.Run(name, func(t *testing.T) {
				got, err := callRun(t, jsFile(name, buf.Bytes()), nil)
				if err != nil {
					t.Fatal(err)
				}
				if want := nativeJSON(t, buf.Bytes(), name, nil); got != want {
					t.Fatalf("adapter JSON differs from the CLI's:\n%s\nwant\n%s", got, want)
				}
				var rep verify.Report
				if err := json.Unmarshal([]byte(got), &rep); err != nil {
					t.Fatal(err)
				}
				checkExpected(t, &rep, built.Expected)
				if rep.Source.Path != name || rep.Source.Compressed != gz {
					t.Fatalf("source %+v", rep.Source)
				}
			})
		}
	}
}

func TestDockerArchiveAndPlatform(t *testing.T) {
	built := fixtures.MustBuild(fixtures.MultiPlatform())
	var buf bytes.Buffer
	if err := built.WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	got, err := callRun(t, jsBytes(buf.Bytes()), map[string]any{"name": "x.tar", "platform": "linux/arm64/v8"})
	if err != nil {
		t.Fatal(err)
	}
	want := nativeJSON(t, buf.Bytes(), "x.tar", &verify.Options{Platform: &verify.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}})
	if got != want {
		t.Fatalf("--platform: adapter JSON differs from the CLI's:\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, `"architecture": "amd64"`) {
		t.Fatal("platform option ignored: amd64 image reported")
	}

	single := fixtures.MustBuild(fixtures.Default())
	buf.Reset()
	if err := single.WriteDockerArchive(&buf, fixtures.Classic, false); err != nil {
		t.Fatal(err)
	}
	got, err = callRun(t, jsFile("d.tar", buf.Bytes()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := nativeJSON(t, buf.Bytes(), "d.tar", nil); got != want {
		t.Fatalf("docker archive: adapter JSON differs from the CLI's:\n%s\nwant\n%s", got, want)
	}
}

func TestLayoutFolder(t *testing.T) {
	built := fixtures.MustBuild(fixtures.MultiPlatform())
	files := built.LayoutFiles()
	// As a folder picker gives it: Files whose paths start with the folder.
	folder := js.Global().Get("Object").New()
	for p, data := range files {
		folder.Set("img/"+p, jsBytes(data))
	}
	got, err := callRun(t, folder, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := verify.Dir(context.Background(), built.LayoutFS(), "img", nil)
	want, _ := json.MarshalIndent(res.Report, "", "  ")
	if got != string(want) {
		t.Fatalf("layout: adapter JSON differs from the CLI's:\n%s\nwant\n%s", got, want)
	}
	var rep verify.Report
	if err := json.Unmarshal([]byte(got), &rep); err != nil {
		t.Fatal(err)
	}
	checkExpected(t, &rep, built.Expected)
}

func TestTamperedLayerFails(t *testing.T) {
	built := fixtures.MustBuild(fixtures.Default())
	layer := built.Expected.Images[0].Layers[1].Digest
	twin := built.FlipByte(layer, 40)
	var buf bytes.Buffer
	if err := twin.WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	got, err := callRun(t, jsBytes(buf.Bytes()), map[string]any{"name": "twin.tar"})
	if err != nil {
		t.Fatal(err)
	}
	var rep verify.Report
	if err := json.Unmarshal([]byte(got), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != verify.Failed || !rep.Has(verify.CodeDigestMismatch) {
		t.Fatalf("verdict %s, findings %v; want FAILED with %s", rep.Verdict, rep.Findings, verify.CodeDigestMismatch)
	}
	if want := nativeJSON(t, buf.Bytes(), "twin.tar", nil); got != want {
		t.Fatalf("twin: adapter JSON differs from the CLI's")
	}
}

func TestProgressReachesEveryBlobsEnd(t *testing.T) {
	built := fixtures.MustBuild(fixtures.Default())
	var buf bytes.Buffer
	if err := built.WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	last := map[string]float64{}
	cb := js.FuncOf(func(_ js.Value, args []js.Value) any {
		name, done := args[0].String(), args[1].Float()
		if done < last[name] {
			t.Errorf("%s: progress went back from %v to %v", name, last[name], done)
		}
		last[name] = done
		return nil
	})
	defer cb.Release()
	if _, err := callRun(t, jsBytes(buf.Bytes()), map[string]any{"onProgress": cb}); err != nil {
		t.Fatal(err)
	}
	for _, l := range built.Expected.Images[0].Layers {
		name := "blobs/sha256/" + strings.TrimPrefix(l.Digest, "sha256:")
		found := false
		for n, done := range last {
			if strings.HasSuffix(n, strings.TrimPrefix(l.Digest, "sha256:")) && int64(done) == l.Size {
				found = true
			}
		}
		if !found {
			t.Errorf("no progress event reached the end of %s (%d bytes); got %v", name, l.Size, last)
		}
	}
}

func TestParseInputErrors(t *testing.T) {
	obj := js.Global().Get("Object")
	arr := js.Global().Get("Array")
	for _, tc := range []struct {
		name string
		v    js.Value
		want string
	}{
		{"number", js.ValueOf(42), "input must be"},
		{"undefined", js.Undefined(), "input must be"},
		{"empty array", arr.New(), "no files"},
		{"empty folder", obj.New(), "empty folder"},
		{"non-blob in array", js.ValueOf([]any{jsFile("a/b", nil), "x"}), "item 1 is not a Blob"},
		{"non-blob in folder", js.ValueOf(map[string]any{"index.json": 1}), "is not a Blob"},
	} {
		_, err := parseInput(tc.v)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := callRun(t, js.ValueOf(map[string]any{"a/../x": jsBytes(nil)}), nil); err == nil {
		t.Error("a folder path with .. was accepted")
	}
}

func TestParsePlatform(t *testing.T) {
	for in, want := range map[string]string{"linux/amd64": "linux/amd64", "linux/arm64/v8": "linux/arm64/v8"} {
		p, err := parsePlatform(in)
		if err != nil || p.String() != want {
			t.Errorf("parsePlatform(%q) = %v, %v", in, p, err)
		}
	}
	for _, bad := range []string{"", "linux", "linux/", "/amd64", "a/b/c/d", "a/b/"} {
		if _, err := parsePlatform(bad); err == nil {
			t.Errorf("parsePlatform(%q) accepted", bad)
		}
	}
}

func TestThrottler(t *testing.T) {
	var got []verify.Progress
	th := newThrottler(func(p verify.Progress) { got = append(got, p) })
	for done := int64(32 << 10); done <= 10<<20; done += 32 << 10 {
		th.progress(verify.Progress{Name: "a", Done: done, Total: 10 << 20})
	}
	for done := int64(1000); done <= 5000; done += 1000 {
		th.progress(verify.Progress{Name: "b", Done: done}) // size unknown
	}
	th.flush()
	if len(got) > 20 {
		t.Fatalf("%d events passed for 10 MiB in 32 KiB steps; want about 11", len(got))
	}
	lastOf := map[string]int64{}
	for _, p := range got {
		lastOf[p.Name] = p.Done
	}
	if lastOf["a"] != 10<<20 || lastOf["b"] != 5000 {
		t.Fatalf("last events %v; want a at 10 MiB and b at 5000 after flush", lastOf)
	}
}

func TestClaimsAreReportedAsTheCLIDoes(t *testing.T) {
	spec := fixtures.Default()
	spec.Index = true
	spec.BuildKitAttestations = true
	built := fixtures.MustBuild(spec)
	var buf bytes.Buffer
	if err := built.WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	got, err := callRun(t, jsBytes(buf.Bytes()), map[string]any{"name": "bk.tar"})
	if err != nil {
		t.Fatal(err)
	}
	var rep attest.Report
	if err := json.Unmarshal([]byte(got), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Attestations) == 0 {
		t.Fatal("the BuildKit attestation in the image was not reported")
	}
	for _, a := range rep.Attestations {
		if a.Kind != "buildkit-attestation" || a.Status != "unsigned" {
			t.Errorf("attestation %s: status %s; want an unsigned buildkit-attestation", a.Kind, a.Status)
		}
	}
	if rep.Verdict != verify.Verified {
		t.Fatalf("verdict %s without any trust configured; findings %v", rep.Verdict, rep.Findings)
	}

	// Keyless trust needs sigstore-go, which the browser build lacks: never VERIFIED.
	got, err = callRun(t, jsBytes(buf.Bytes()), map[string]any{"certificateIdentity": "a@example.com", "certificateOidcIssuer": "https://issuer.example"})
	if err != nil {
		t.Fatal(err)
	}
	rep = attest.Report{}
	if err := json.Unmarshal([]byte(got), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict == verify.Verified {
		t.Fatal("keyless trust requested in the browser build gave VERIFIED")
	}

	// Unusable options are errors, worded in the module's own terms.
	for name, c := range map[string]struct {
		opts map[string]any
		want string // the message, or its start when it ends in ": "
	}{
		"bad key":            {map[string]any{"keys": []any{"not a pem"}}, "imgproof: key: "},
		"negative threshold": {map[string]any{"threshold": -1}, "imgproof: threshold must be at least 1"},
		"identity alone": {map[string]any{"certificateIdentity": "a@example.com"},
			"imgproof: keyless verification needs one of certificateIdentity[Regexp] and one of certificateOidcIssuer[Regexp]"},
		"bad policy": {map[string]any{"policy": "{{{"}, "imgproof: policy policy: "},
		"policy key file": {map[string]any{"policy": "apiVersion: " + policy.APIVersion + "\nrequireSignature: true\nkeys:\n  - path: k.pub\n"},
			"imgproof: policy policy: keys[0] names a file (k.pub); in the browser, give keys inline or with the keys option"},
		"policy key not PEM": {map[string]any{"policy": "apiVersion: " + policy.APIVersion + "\nrequireSignature: true\nkeys:\n  - pem: nope\n"},
			"imgproof: policy: "},
		"attestation number": {map[string]any{"attestations": []any{7}}, "imgproof: attestation: "},
	} {
		_, err := callRun(t, jsBytes(buf.Bytes()), c.opts)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", name)
		case strings.HasSuffix(c.want, ": ") && !strings.HasPrefix(err.Error(), c.want),
			!strings.HasSuffix(c.want, ": ") && err.Error() != c.want:
			t.Errorf("%s: %q, want %q", name, err, c.want)
		}
	}
}
