package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/fixtures"
	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

// graphOf verifies b as an OCI archive and returns its result and graph.
func graphOf(t *testing.T, b *fixtures.Built) (*verify.Result, *verify.Graph) {
	t.Helper()
	var buf bytes.Buffer
	if err := b.WriteOCIArchive(&buf, false); err != nil {
		t.Fatal(err)
	}
	res := verify.Archive(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), "image.tar", nil)
	return res, res.Graph(nil)
}

func TestGraphNodesOfAnImage(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	files := b.LayoutFiles()
	_, g := graphOf(t, b)

	var paths []string
	kinds := map[string]verify.NodeKind{}
	g.Walk(func(n *verify.Node) bool {
		paths = append(paths, n.Path())
		kinds[n.Path()] = n.Kind()
		if !n.Walked() {
			t.Errorf("%s: not marked as walked by the verifier", n.Path())
		}
		if n.Parent() == nil {
			if n.Path() != "index.json" {
				t.Errorf("root is %s", n.Path())
			}
		} else if n.Parent().Path()+"/" != n.Path()[:len(n.Parent().Path())+1] {
			t.Errorf("%s: parent %s", n.Path(), n.Parent().Path())
		}
		if n.Kind() == verify.NodeLayer {
			ev := n.Evidence()
			if ev == nil || ev.Err != nil || ev.Size != n.Descriptor().Size || ev.Digests[digest.SHA256] != n.Descriptor().Digest {
				t.Errorf("%s: evidence %+v for %v", n.Path(), ev, n.Descriptor())
			}
			return true
		}
		doc, err := n.Document()
		if err != nil {
			t.Fatalf("%s: %v", n.Path(), err)
		}
		name := n.Name()
		if n.Parent() == nil {
			name = "index.json"
		}
		if !bytes.Equal(doc, files[name]) {
			t.Errorf("%s: Document is not the bytes of %s", n.Path(), name)
		}
		if n.Parent() != nil && n.Digest(doc) != n.Descriptor().Digest {
			t.Errorf("%s: Digest %s, descriptor %s", n.Path(), n.Digest(doc), n.Descriptor().Digest)
		}
		if n.DecodeErr() != nil {
			t.Errorf("%s: %v", n.Path(), n.DecodeErr())
		}
		return true
	})
	want := map[string]verify.NodeKind{
		"index.json":                        verify.NodeIndex,
		"index.json/manifests[0]":           verify.NodeManifest,
		"index.json/manifests[0]/config":    verify.NodeConfig,
		"index.json/manifests[0]/layers[0]": verify.NodeLayer,
		"index.json/manifests[0]/layers[1]": verify.NodeLayer,
		"index.json/manifests[0]/layers[2]": verify.NodeLayer,
	}
	for p, k := range want {
		if kinds[p] != k {
			t.Errorf("%s: kind %q, want %q (walked %v)", p, kinds[p], k, paths)
		}
	}
	if len(kinds) != len(b.Expected.Images[0].Layers)+3 {
		t.Errorf("nodes %v", paths)
	}
	// The raw descriptor is the document's own JSON for the entry.
	m := g.Root().Children()[0]
	var raw map[string]any
	if err := json.Unmarshal(m.RawDescriptor(), &raw); err != nil || raw["digest"] != string(m.Descriptor().Digest) {
		t.Errorf("raw descriptor %s: %v", m.RawDescriptor(), err)
	}
}

func TestGraphKeepsDocumentsThatFailTypedDecoding(t *testing.T) {
	// A layer size that is a string: the manifest still hashes to its
	// descriptor, but does not decode into v1.Manifest.
	b := fixtures.MustBuild(fixtures.Default()).WithManifest(0, func(m map[string]any) {
		m["layers"].([]any)[1].(map[string]any)["size"] = "12"
	})
	res, g := graphOf(t, b)
	plain, _ := graphOf(t, b)
	if !reflect.DeepEqual(res.Report.Findings, plain.Report.Findings) || res.Report.Verdict != plain.Report.Verdict {
		t.Fatal("taking the graph changed the report")
	}
	man := g.Root().Children()[0]
	if man.Kind() != verify.NodeManifest || man.DecodeErr() == nil {
		t.Fatalf("manifest node: kind %s, decode error %v", man.Kind(), man.DecodeErr())
	}
	doc, err := man.Document()
	if err != nil || man.Digest(doc) != man.Descriptor().Digest {
		t.Fatalf("manifest bytes: %v, digest %s", err, man.Digest(doc))
	}
	kids := man.Children()
	if len(kids) != 1+len(b.Expected.Images[0].Layers) {
		t.Fatalf("children of a manifest that failed decoding: %d", len(kids))
	}
	bad := kids[2]
	if bad.Path() != "index.json/manifests[0]/layers[1]" || bad.DescriptorErr() == nil || bad.Name() == "" || bad.Descriptor().Digest == "" {
		t.Fatalf("mistyped layer descriptor: %s err %v name %q desc %+v", bad.Path(), bad.DescriptorErr(), bad.Name(), bad.Descriptor())
	}
	if !bytes.Contains(bad.RawDescriptor(), []byte(`"size":"12"`)) {
		t.Fatalf("raw descriptor %s", bad.RawDescriptor())
	}
	// The verifier stopped at the manifest; the graph leads on.
	if kids[0].Walked() || kids[0].Kind() != verify.NodeConfig {
		t.Fatalf("config below a refused manifest: walked %v kind %s", kids[0].Walked(), kids[0].Kind())
	}
	if cfg, err := kids[0].Document(); err != nil || kids[0].Digest(cfg) != kids[0].Descriptor().Digest {
		t.Fatalf("config below a refused manifest: %v", err)
	}
}

func TestGraphOfAnUnreadableSourceFallsBackToTheListing(t *testing.T) {
	// Two index.json entries: the verifier refuses the archive, so it has
	// no store; the listing still opens the first one.
	b := fixtures.MustBuild(fixtures.Default())
	entries := fixtures.DuplicateEntry(b.OCIArchiveEntries(), "index.json", []byte("{}"))
	var buf bytes.Buffer
	if err := fixtures.WriteArchive(&buf, entries, false, fixtures.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	ra := bytes.NewReader(buf.Bytes())
	res := verify.Archive(context.Background(), ra, int64(buf.Len()), "dup.tar", nil)
	if res.Report.Verdict == verify.Verified {
		t.Fatal("duplicate entries verified")
	}
	if _, err := res.Graph(nil).Root().Document(); err == nil {
		t.Fatal("read index.json from a refused archive without a listing")
	}
	l, err := verify.ListArchive(ra, int64(buf.Len()), nil)
	if err != nil {
		t.Fatal(err)
	}
	g := res.Graph(l)
	doc, err := g.Root().Document()
	if err != nil || !bytes.Equal(doc, b.IndexJSON) {
		t.Fatalf("index.json through the listing: %v", err)
	}
	if len(g.Root().Children()) != 1 || g.Root().Children()[0].Walked() {
		t.Fatalf("children %d", len(g.Root().Children()))
	}
}

func TestGraphWalkEndsOnADocumentThatNamesItself(t *testing.T) {
	// A blob read by name need not hash to its digest: this one is an
	// index that lists itself.
	self := "sha256:" + strings.Repeat("ab", 32)
	idx := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"` + self + `","size":10}]}`
	files := map[string][]byte{
		"oci-layout":               []byte(`{"imageLayoutVersion":"1.0.0"}`),
		"index.json":               []byte(idx),
		"blobs/sha256/" + self[7:]: []byte(idx),
	}
	res := verify.Dir(context.Background(), fixtures.MapFS(files), "self", nil)
	if res.Report.Verdict == verify.Verified {
		t.Fatal("a blob that does not hash to its digest verified")
	}
	var nodes []*verify.Node
	res.Graph(nil).Walk(func(n *verify.Node) bool { nodes = append(nodes, n); return true })
	// The root, the index, and the index naming itself, which is not
	// walked below again.
	if len(nodes) != 3 || nodes[1].First() != nil || nodes[2].First() != nodes[1] {
		t.Fatalf("walked %d nodes", len(nodes))
	}
}

func TestGraphNamesNoFileBelowTheIndexDepth(t *testing.T) {
	// A chain of indexes, each naming the next: the entries of the index
	// at limits.IndexDepth name no file, and the walk ends there.
	lim := limits.Default()
	lim.IndexDepth = 2
	files := map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`)}
	entry := func(i int) (string, string) {
		d := "sha256:" + strings.Repeat(string(rune('a'+i)), 64)
		return d, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"` + d + `","size":10}]}`
	}
	_, root := entry(0)
	files["index.json"] = []byte(root)
	for i := 0; i < 4; i++ {
		d, _ := entry(i)
		_, next := entry(i + 1)
		files["blobs/sha256/"+d[7:]] = []byte(next)
	}
	res := verify.Dir(context.Background(), fixtures.MapFS(files), "chain", &verify.Options{Limits: &lim})
	var names []string
	res.Graph(nil).Walk(func(n *verify.Node) bool { names = append(names, n.Name()); return true })
	want := []string{"index.json", "blobs/sha256/" + strings.Repeat("a", 64), "blobs/sha256/" + strings.Repeat("b", 64), ""}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
}

func TestGraphKindsNamesAndRepeats(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default()).WithIndexJSON(func(idx map[string]any) {
		ms := idx["manifests"].([]any)
		m := ms[0].(map[string]any)
		again := map[string]any{"mediaType": m["mediaType"], "digest": m["digest"], "size": m["size"]}
		asIndex := map[string]any{"mediaType": verify.MediaTypeOCIIndex, "digest": m["digest"], "size": m["size"]}
		folded := map[string]any{"MediaType": m["mediaType"], "Digest": m["digest"], "size": m["size"]}
		upper := map[string]any{"mediaType": m["mediaType"], "digest": strings.ToUpper(m["digest"].(string)), "size": m["size"]}
		idx["manifests"] = append(ms, again, asIndex, folded, upper)
	})
	_, g := graphOf(t, b)
	type seen struct {
		kind           verify.NodeKind
		named, descErr bool
		first          string
	}
	got := map[string]seen{}
	g.Walk(func(n *verify.Node) bool {
		s := seen{kind: n.Kind(), named: n.Name() != "", descErr: n.DescriptorErr() != nil}
		if n.First() != nil {
			s.first = n.First().Path()
		}
		got[n.Path()] = s
		return true
	})
	want := map[string]seen{
		"index.json/manifests[0]": {kind: verify.NodeManifest, named: true},
		// Named again as a manifest: visited, not walked below again.
		"index.json/manifests[1]": {kind: verify.NodeManifest, named: true, first: "index.json/manifests[0]"},
		// Named as an index: the kind its media type declares.
		"index.json/manifests[2]": {kind: verify.NodeIndex, named: true},
		// Keys in another case are not the descriptor's: no media type, no digest.
		"index.json/manifests[3]": {kind: verify.NodeBlob, descErr: true},
		// A sha256 digest that is not lower-case hex names no file.
		"index.json/manifests[4]": {kind: verify.NodeManifest},
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %+v, want %+v", p, got[p], w)
		}
	}
	if _, ok := got["index.json/manifests[1]/config"]; ok {
		t.Error("walked below a repeated manifest")
	}
	if _, ok := got["index.json/manifests[0]/config"]; !ok {
		t.Error("did not walk below the first manifest")
	}
}

// ChildrenOf lists the descriptors of the bytes it is given, as Children
// lists those of the graph's own read.
func TestGraphChildrenOfTheCallersBytes(t *testing.T) {
	b := fixtures.MustBuild(fixtures.Default())
	_, g := graphOf(t, b)
	man := g.Root().Children()[0]
	doc, err := man.Document()
	if err != nil {
		t.Fatal(err)
	}
	want := man.Children()
	got := man.ChildrenOf(doc)
	if len(got) != 4 || len(got) != len(want) {
		t.Fatalf("%d children of the manifest's bytes, %d from the graph", len(got), len(want))
	}
	for i := range got {
		if got[i].Path() != want[i].Path() || got[i].Kind() != want[i].Kind() || got[i].Descriptor().Digest != want[i].Descriptor().Digest || !got[i].Walked() {
			t.Errorf("child %d: %s %s %s, want %s %s %s", i, got[i].Path(), got[i].Kind(), got[i].Descriptor().Digest,
				want[i].Path(), want[i].Kind(), want[i].Descriptor().Digest)
		}
	}
	other := []byte(`{"schemaVersion":2,"layers":[{"mediaType":"text/plain","digest":"sha256:` + strings.Repeat("ab", 32) + `","size":1}]}`)
	kids := man.ChildrenOf(other)
	if len(kids) != 1 || kids[0].Path() != man.Path()+"/layers[0]" || kids[0].Descriptor().MediaType != "text/plain" {
		t.Fatalf("children of other bytes: %d", len(kids))
	}
	if leaf := want[1]; leaf.ChildrenOf(doc) != nil {
		t.Errorf("a layer has children")
	}
}
