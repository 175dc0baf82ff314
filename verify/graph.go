package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify/strictjson"
)

// The graph is what the verifier walked, for readers that judge the
// documents themselves (package conformance): one node per descriptor,
// named by the path the report uses, with the descriptor as given, the
// bytes of the document it leads to, and what the verifier made of it.
// A reader walks the graph instead of walking the source again, so that
// the two cannot disagree on which descriptor leads to which bytes.
//
// The graph does not stop where the verifier's judgement stops: a
// document that failed typed decoding, or whose media type the verifier
// refused, still lists the descriptors a tolerant parse finds in it, and
// those lead on. Nodes keep no document bytes: Document reads them again
// through the source, under the document limits, so memory stays with
// the descriptors; blob nodes carry the evidence of the one read.

// NodeKind is what a node is in the graph.
type NodeKind string

// The node kinds.
const (
	NodeIndex    NodeKind = "index"    // an image index or a docker manifest list
	NodeManifest NodeKind = "manifest" // an image manifest
	NodeConfig   NodeKind = "config"   // an image config, or the empty descriptor's {}
	NodeLayer    NodeKind = "layer"    // a tar layer of an image
	NodeBlob     NodeKind = "blob"     // any other blob: an artifact's, a config of another type
)

// Graph is the graph of one verification's source. Its root is the
// layout's index.json.
type Graph struct {
	v        *verifier
	fallback *Listing
	lim      limits.Limits
	root     *Node
}

// Graph returns the graph the verification walked. fallback, if not nil,
// reads the documents the verifier's store cannot give again: a one-pass
// read of a gzipped archive keeps only the documents that look like JSON,
// and a source the verifier refused (a duplicate entry, an unsafe name)
// has no store at all.
func (r *Result) Graph(fallback *Listing) *Graph {
	g := &Graph{fallback: fallback, lim: limits.Default()}
	if r != nil && r.v != nil {
		g.v, g.lim = r.v, r.v.lim
	}
	g.root = &Node{g: g, path: v1.ImageIndexFile, kind: NodeIndex, name: v1.ImageIndexFile}
	return g
}

// Root is the node of index.json. Its Document is read under the
// archive-metadata limit; it has no descriptor.
func (g *Graph) Root() *Node { return g.root }

// Walk calls visit for the root and every node below it, depth first, in
// the order of the documents' lists. visit returns false to skip what
// lies below a node. Like the verifier's walk, Walk goes below an index
// or manifest once for each kind it is named as: a later node naming the
// same digest as the same kind is visited, with First set, and what lies
// below it is not. Configs and blobs are visited wherever they are named.
func (g *Graph) Walk(visit func(*Node) bool) {
	g.root.walk(visit, map[string]*Node{})
}

func (n *Node) walk(visit func(*Node) bool, seen map[string]*Node) {
	key := string(n.kind) + "\x00" + string(n.desc.Digest)
	if n.parent != nil && n.name != "" && (n.kind == NodeIndex || n.kind == NodeManifest) {
		if n.first = seen[key]; n.first == nil {
			seen[key] = n
		}
	}
	if !visit(n) || n.first != nil {
		return
	}
	for _, c := range n.Children() {
		c.walk(visit, seen)
	}
}

// Node is one descriptor of the graph and what it leads to.
type Node struct {
	g      *Graph
	parent *Node
	path   string
	kind   NodeKind
	name   string // the file the node's bytes are read from, or ""
	depth  int    // the indexes above the node; index.json is 0
	first  *Node  // set by Walk: the node first walked below for the same kind and digest

	desc    v1.Descriptor
	raw     json.RawMessage
	descErr error
}

// Path is the node's place in the report's path notation, for example
// index.json/manifests[0]/layers[1].
func (n *Node) Path() string { return n.path }

// Kind is what the descriptor leads to. An entry of an index is an
// index or a manifest by the media type it declares, as
// go-containerregistry's types.MediaType decides, else a blob: the
// verifier refuses a document whose members say otherwise, and a digest
// named as two kinds is each of them where it is named. Below a
// manifest, it is the kind the verifier decided (a config or layer only
// of an image), or, below a manifest it did not walk, the kind the media
// type names.
func (n *Node) Kind() NodeKind { return n.kind }

// Parent is the node whose document holds this descriptor, or nil for
// the root.
func (n *Node) Parent() *Node { return n.parent }

// Descriptor is the descriptor as decoded into the typed form. When a
// field has the wrong JSON type, DescriptorErr says so and the fields
// that could be read (mediaType, digest, size) are set.
func (n *Node) Descriptor() v1.Descriptor { return n.desc }

// RawDescriptor is the descriptor's JSON as the document holds it.
func (n *Node) RawDescriptor() json.RawMessage { return n.raw }

// DescriptorErr is the error of decoding the descriptor into its typed
// form, or nil.
func (n *Node) DescriptorErr() error { return n.descErr }

// Name is the file the descriptor's digest names in the source
// (blobs/<alg>/<encoded>; index.json for the root). It is "" when the
// graph reads nothing for the node: a digest outside the grammar, or a
// sha256 or sha512 digest that is not lower-case hex of the algorithm's
// length, names no file; nor does an entry of an index nested
// limits.IndexDepth deep below index.json, whose entries the verifier
// does not walk either.
func (n *Node) Name() string { return n.name }

// First is, for a node Walk visits, the node it first went below for the
// same kind and digest, or nil; Walk does not go below a node with First
// set, as the verifier reads each document once.
func (n *Node) First() *Node { return n.first }

// Walked reports whether the verifier read this node's document or blob
// and judged it; the nodes below a document it refused are the graph's
// own, from a tolerant parse.
func (n *Node) Walked() bool {
	if n.g.v == nil {
		return false
	}
	if n.parent == nil {
		return n.g.v.indexRead
	}
	_, ok := n.g.v.kinds[n.path]
	return ok
}

// Document reads the bytes of the document the node leads to, whole,
// under the document limits (archive-metadata for index.json), through
// the verifier's store and else the fallback listing. The bytes are
// returned whatever their digest: Digest says what they hash to.
func (n *Node) Document() ([]byte, error) {
	if n.name == "" {
		return nil, fmt.Errorf("%s: the descriptor's digest %q names no blob", n.path, n.desc.Digest)
	}
	limit, kind := n.g.lim.Document(), n.g.lim.DocumentKind()
	if n.parent == nil {
		limit, kind = n.g.lim.ArchiveMetadata, limits.ArchiveMetadata
	}
	var err error
	if n.g.v != nil && n.g.v.st != nil {
		var b []byte
		if b, err = n.g.v.st.readFile(n.name, limit); err == nil {
			return b, nil
		}
	}
	if n.g.fallback != nil {
		return n.g.fallback.ReadFile(n.name, kind, limit)
	}
	if errors.Is(err, limits.ErrLimit) {
		return nil, limits.Exceeded(kind, limit, n.name) // the store names every limit archive-metadata
	}
	if err == nil {
		err = errors.New("the source could not be read")
	}
	return nil, err
}

// Digest is the digest of b under the algorithm of the node's
// descriptor (sha256 for the root), as a reader compares it with the
// descriptor's; "" when the algorithm is not one imgproof computes.
func (n *Node) Digest(b []byte) digest.Digest {
	alg := digest.SHA256
	if n.parent != nil {
		d, err := parseDigest(string(n.desc.Digest))
		if err != nil {
			return ""
		}
		alg = d.Algorithm()
	}
	return digest.NewDigestFromBytes(alg, hashBytes(alg, b))
}

// DecodeErr is the error of decoding the node's document into its typed
// form (v1.Index, v1.Manifest or v1.Image) under the strict JSON profile,
// or nil; also nil for blobs and documents that could not be read.
func (n *Node) DecodeErr() error {
	_, err := n.load()
	return err
}

// Children lists the descriptors the node's document holds: its
// manifests, then its config, then its layers, in the document's order.
// They come from a tolerant parse, so a document that fails typed
// decoding still leads on; an unreadable document has none.
func (n *Node) Children() []*Node {
	kids, _ := n.load()
	return kids
}

// Evidence is what the verifier's one read of a blob recomputed, or nil
// when it did not stream the blob (documents, unwalked nodes).
func (n *Node) Evidence() *Evidence {
	if n.g.v == nil || n.parent == nil {
		return nil
	}
	dg, err := parseDigest(string(n.desc.Digest))
	if err != nil {
		return nil
	}
	p, ok := n.g.v.blobs[blobPath(dg)+"\x00"+string(dg.Algorithm())]
	if !ok || p.ev == nil {
		return nil
	}
	ev := p.ev
	out := &Evidence{Size: ev.size, Digests: ev.digests, Compression: ev.compression, DiffIDs: ev.diffIDs, Uncompressed: ev.uncompressed}
	switch {
	case p.err != nil:
		out.Err = p.err
	case ev.readErr != nil:
		out.Err = ev.readErr
	case ev.decompressErr != nil:
		out.Err = ev.decompressErr
	}
	return out
}

// Evidence is what one streaming read of a blob recomputed.
type Evidence struct {
	Size         int64
	Digests      map[digest.Algorithm]digest.Digest
	Compression  string // gzip, zstd, none, or an unsupported format's name
	DiffIDs      map[digest.Algorithm]digest.Digest
	Uncompressed int64
	Err          error // reading or decompressing the blob
}

// ChildrenOf lists the descriptors doc holds, as Children does, where doc
// is the node's document as the caller read it. A reader that checks the
// bytes it reads against the node's digest before it uses them (imagecopy
// copies them) then follows the descriptors of the very bytes it checked,
// not those of another read of the same file.
func (n *Node) ChildrenOf(doc []byte) []*Node {
	if n.kind != NodeIndex && n.kind != NodeManifest && n.kind != NodeConfig {
		return nil
	}
	kids, _ := n.parse(doc)
	return kids
}

// load reads the document to decode it and list its children. Nothing
// is kept: a reader that holds a node holds its descriptor only.
func (n *Node) load() (kids []*Node, decodeErr error) {
	if n.kind != NodeIndex && n.kind != NodeManifest && n.kind != NodeConfig {
		return nil, nil
	}
	b, err := n.Document()
	if err != nil {
		return nil, nil
	}
	return n.parse(b)
}

// parse decodes a document of the node to list its children.
func (n *Node) parse(b []byte) (kids []*Node, decodeErr error) {
	var into any
	switch n.kind {
	case NodeIndex:
		into = &v1.Index{}
	case NodeManifest:
		into = &v1.Manifest{}
	default:
		into = &v1.Image{}
	}
	decodeErr = strictjson.Unmarshal(b, into, n.g.lim.JSONDepth)
	if n.kind == NodeConfig {
		return nil, decodeErr
	}
	// The lists of the document's kind, by their exact keys (as the
	// spec spells them; strictjson refuses other spellings), whatever
	// the types of the other members.
	var members map[string]json.RawMessage
	if json.Unmarshal(b, &members) != nil {
		return nil, decodeErr
	}
	var list []json.RawMessage
	if n.kind == NodeIndex {
		_ = json.Unmarshal(members["manifests"], &list)
		for i, raw := range list {
			kids = n.child(kids, fmt.Sprintf("%s/manifests[%d]", n.path, i), raw, func(d v1.Descriptor) NodeKind {
				return nodeKindOf(kindOfMediaType(d.MediaType))
			})
		}
		return kids, decodeErr
	}
	if cfg := members["config"]; isObject(cfg) {
		kids = n.child(kids, n.path+"/config", cfg, func(d v1.Descriptor) NodeKind {
			if isImageConfig(d.MediaType) || d.MediaType == MediaTypeOCIEmpty {
				return NodeConfig
			}
			return NodeBlob
		})
	}
	_ = json.Unmarshal(members["layers"], &list)
	for i, raw := range list {
		kids = n.child(kids, fmt.Sprintf("%s/layers[%d]", n.path, i), raw, func(d v1.Descriptor) NodeKind {
			if _, tar := layerCompression(d.MediaType); tar {
				return NodeLayer
			}
			return NodeBlob
		})
	}
	return kids, decodeErr
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// child appends to kids a child node for a raw descriptor; kindOf names
// its kind from the descriptor, unless it is below a manifest the
// verifier walked, whose decision stands.
func (n *Node) child(kids []*Node, path string, raw json.RawMessage, kindOf func(v1.Descriptor) NodeKind) []*Node {
	c := &Node{g: n.g, parent: n, path: path, raw: raw, depth: n.depth}
	if n.kind == NodeIndex {
		c.depth++
	}
	if !isObject(raw) {
		c.descErr = fmt.Errorf("%s: the descriptor is not a JSON object", path)
		c.kind = NodeBlob
		return append(kids, c)
	}
	if k := foldedKey(raw); k != "" {
		// encoding/json would take it for the key it folds to.
		c.descErr = fmt.Errorf("%s: the key %q is not spelled as the spec spells it", path, k)
		c.desc = looseDescriptor(raw)
	} else if err := json.Unmarshal(raw, &c.desc); err != nil {
		c.descErr = err
		c.desc = looseDescriptor(raw)
	}
	deep := n.kind == NodeIndex && n.depth >= n.g.lim.IndexDepth
	if d := string(c.desc.Digest); !deep && namesBlob(d) {
		alg, enc, _ := cut(d, ':')
		c.name = "blobs/" + alg + "/" + enc
	}
	c.kind = kindOf(c.desc)
	if k, ok := n.g.walkedKind(path); ok && n.kind == NodeManifest {
		c.kind = k
	}
	return append(kids, c)
}

// namesBlob reports whether a digest names a blob file: it is in the
// grammar, and a digest of a registered algorithm (sha256, sha512) is
// lower-case hex of the algorithm's length.
func namesBlob(d string) bool {
	if !wellFormed(d) {
		return false
	}
	alg, enc, _ := cut(d, ':')
	switch a := digest.Algorithm(alg); a {
	case digest.SHA256, digest.SHA512:
		return a.Validate(enc) == nil
	}
	return true
}

// descriptorKeys are the members of a descriptor, as the spec spells them.
var descriptorKeys = []string{"mediaType", "digest", "size", "urls", "annotations", "data", "platform", "artifactType"}

// foldedKey returns a key of the object raw that differs from a
// descriptor member only in case, or "".
func foldedKey(raw json.RawMessage) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	for k := range fields {
		for _, f := range descriptorKeys {
			if k != f && strings.EqualFold(k, f) {
				return k
			}
		}
	}
	return ""
}

// looseDescriptor reads what it can of a descriptor whose fields do not
// all have their types: each of mediaType, digest and size on its own.
func looseDescriptor(raw json.RawMessage) v1.Descriptor {
	var fields map[string]json.RawMessage
	var d v1.Descriptor
	if json.Unmarshal(raw, &fields) != nil {
		return d
	}
	_ = json.Unmarshal(fields["mediaType"], &d.MediaType)
	_ = json.Unmarshal(fields["digest"], &d.Digest)
	_ = json.Unmarshal(fields["size"], &d.Size)
	_ = json.Unmarshal(fields["artifactType"], &d.ArtifactType)
	return d
}

// walkedKind is the kind the verifier decided for the document at path,
// from its members, when it walked it.
func (g *Graph) walkedKind(path string) (NodeKind, bool) {
	if g.v == nil {
		return "", false
	}
	k, ok := g.v.kinds[path]
	return k, ok
}
