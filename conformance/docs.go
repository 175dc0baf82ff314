package conformance

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
	"github.com/imgproof/imgproof/verify/strictjson"
)

const (
	emptyDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
)

var (
	mediaTypeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$`)
	algRE       = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*$`)
	encRE       = regexp.MustCompile(`^[a-zA-Z0-9=_-]+$`)
	hex64RE     = regexp.MustCompile(`^[a-f0-9]{64}$`)
	hex128RE    = regexp.MustCompile(`^[a-f0-9]{128}$`)
	refNameRE   = regexp.MustCompile(`^[A-Za-z0-9]+(?:[-._:@+]+[A-Za-z0-9]+)*(?:/[A-Za-z0-9]+(?:[-._:@+]+[A-Za-z0-9]+)*)*$`)
	envRE       = regexp.MustCompile(`^[^=]+=`)
)

// parseJSON checks data against the strict profile and decodes it into
// generic values (numbers kept as json.Number). Failures are reported.
func (c *checker) parseJSON(path string, data []byte) (any, bool) {
	c.apply(imgproofJSON001, ociANN002)
	if err := strictjson.Check(data, c.lim.JSONDepth); err != nil {
		var se *strictjson.Error
		if errors.As(err, &se) && se.Kind == strictjson.DuplicateKey && strings.Contains(se.Path, "nnotations") {
			c.fail(ociANN002, path+se.Path, se.Msg)
		} else {
			c.fail(imgproofJSON001, path, err.Error())
		}
		if !errors.As(err, &se) || se.Kind == strictjson.Syntax || se.Kind == strictjson.Depth {
			return nil, false
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		c.fail(imgproofJSON001, path, "not JSON: "+err.Error())
		return nil, false
	}
	return v, true
}

// readDoc reads the document a node of the verifier's graph leads to,
// whatever its digest, so that structure rules still run.
func (c *checker) readDoc(n *verify.Node) ([]byte, bool) {
	if n == nil || n.Name() == "" {
		return nil, false
	}
	c.blobs[n.Name()] = true
	b, err := n.Document()
	return b, err == nil
}

// notJSON returns why b is not one JSON value, or nil.
func notJSON(b []byte) error {
	if json.Valid(b) {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return errors.New("not one JSON value")
}

// jsonValue decodes a descriptor's JSON as the rules read every document:
// generic values, numbers kept as json.Number.
func jsonValue(raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	return v
}

func blobPath(d string) (string, bool) {
	alg, enc, ok := strings.Cut(d, ":")
	if !ok || !algRE.MatchString(alg) || !encRE.MatchString(enc) {
		return "", false
	}
	return "blobs/" + alg + "/" + enc, true
}

// --- layout ---

func (c *checker) checkLayout(dockerToo bool) {
	hasBlobs := false
	for _, e := range c.files.Entries() {
		if e.Name == "blobs" || strings.HasPrefix(e.Name, "blobs/") {
			hasBlobs = true
			break
		}
	}
	c.expect(ociLAYOUT001, hasBlobs, "blobs", "the layout has no blobs directory")
	if c.expect(ociLAYOUT002, c.has("oci-layout"), "oci-layout", "the layout has no oci-layout file") {
		if b, err := readAll(c.files, "oci-layout", limits.ArchiveMetadata, c.lim.ArchiveMetadata); err != nil {
			c.fail(ociLAYOUT003, "oci-layout", err.Error())
		} else if err := notJSON(b); err != nil {
			// "It MUST be a JSON object": a file that is not JSON breaks
			// this sentence, not the canonicalization rule.
			c.fail(ociLAYOUT003, "oci-layout", "oci-layout is not JSON: "+err.Error())
		} else if v, ok := c.parseJSON("oci-layout", b); ok {
			m, isObj := v.(map[string]any)
			if c.expect(ociLAYOUT003, isObj, "oci-layout", "oci-layout is not a JSON object") {
				_, isStr := m["imageLayoutVersion"].(string)
				c.expect(ociLAYOUT004, isStr, "oci-layout/imageLayoutVersion", "imageLayoutVersion %s is missing or not a string", show(m["imageLayoutVersion"]))
			}
		} else {
			c.fail(ociLAYOUT003, "oci-layout", "oci-layout is not JSON")
		}
	}
	if c.expect(ociLAYOUT005, c.has("index.json"), "index.json", "the layout has no index.json file") {
		c.graph.Walk(c.visit)
		if c.rootRead {
			// Only index.json's own defects (its fields and its entries'
			// descriptors) fail OCI-LAYOUT-006; those of the documents it
			// leads to are theirs.
			c.expect(ociLAYOUT006, !c.indexJSONBad, "index.json", "index.json is not a valid image index (see the failures under index.json)")
		}
	}
	c.checkBlobNames()
}

// checkBlobNames checks every path under blobs/ and hashes the blobs the
// graph does not reference (the verifier hashes the referenced ones).
func (c *checker) checkBlobNames() {
	for _, e := range c.files.Entries() {
		if !strings.HasPrefix(e.Name, "blobs/") {
			continue
		}
		parts := strings.Split(e.Name, "/")
		if e.Type == '5' {
			if len(parts) == 2 {
				c.expect(ociLAYOUT008, algRE.MatchString(parts[1]), e.Raw, "algorithm directory %q is not in the digest grammar", parts[1])
			} else {
				c.expect(ociLAYOUT008, false, e.Raw, "unexpected directory below blobs/<alg>/")
			}
			continue
		}
		if !c.expect(ociLAYOUT008, len(parts) == 3 && algRE.MatchString(parts[1]) && encRE.MatchString(parts[2]), e.Raw,
			"blob path is not blobs/<alg>/<encoded> in the digest grammar") {
			continue
		}
		if c.blobs[e.Name] {
			continue
		}
		var h hash.Hash
		switch parts[1] {
		case "sha256":
			h = sha256.New()
		case "sha512":
			h = sha512.New()
		default:
			continue
		}
		rc, err := c.files.Open(e.Name)
		if err != nil {
			continue
		}
		_, err = io.Copy(h, rc)
		rc.Close()
		c.apply(ociLAYOUT007)
		if err == nil && hex.EncodeToString(h.Sum(nil)) != parts[2] {
			c.fail(ociLAYOUT007, e.Raw, fmt.Sprintf("unreferenced blob hashes to %s:%x", parts[1], h.Sum(nil)))
		}
	}
}

// --- descriptors ---

type desc struct {
	MediaType, Digest, ArtifactType string
	Size                            int64
	sizeOK, digestOK                bool
	Annotations                     map[string]any
	Platform                        map[string]any
}

func (c *checker) mediaType(id ruleID, path, mt string) {
	c.expect(id, mediaTypeRE.MatchString(mt), path, "%s is not an RFC 6838 type/subtype", showValue(mt))
}

// digest checks a digest string's grammar and registered-algorithm rules.
func (c *checker) digest(path, d string) bool {
	alg, enc, ok := strings.Cut(d, ":")
	if !c.expect(ociDESC004, ok && algRE.MatchString(alg) && encRE.MatchString(enc), path, "%q does not match the digest grammar", d) {
		return false
	}
	switch alg {
	case "sha256":
		return c.expect(ociDESC015, hex64RE.MatchString(enc), path, "sha256 digest %q is not 64 lower-case hex digits", d)
	case "sha512":
		c.expect(ociDESC017, false, path, "digest uses sha512, not sha256")
		return c.expect(ociDESC016, hex128RE.MatchString(enc), path, "sha512 digest %q is not 128 lower-case hex digits", d)
	default:
		c.expect(ociDESC017, false, path, "digest algorithm %q is not sha256", alg)
	}
	return true
}

// descriptor checks one descriptor; ok is false when it is not an object.
func (c *checker) descriptor(path string, v any, onIndexJSON bool) (desc, bool) {
	var d desc
	m, ok := v.(map[string]any)
	if !ok {
		return d, false
	}
	c.apply(ociDESC006, ociDESC007)
	mt, isStr := m["mediaType"].(string)
	if c.expect(ociDESC001, isStr && mt != "", path+"/mediaType", "descriptor has no string mediaType") {
		d.MediaType = mt
		// manifest.md repeats descriptor.md's sentence for the config's
		// and the layers' media types (OCI-MAN-012): one defect, reported
		// once, by descriptor.md's rule, whatever list holds the
		// descriptor. An absent one is OCI-DESC-001's alone.
		c.mediaType(ociDESC002, path+"/mediaType", mt)
	}
	dg, isStr := m["digest"].(string)
	if c.expect(ociDESC003, isStr, path+"/digest", "descriptor has no string digest") {
		d.Digest = dg
		d.digestOK = c.digest(path+"/digest", dg)
	}
	n, isNum := m["size"].(json.Number)
	size, err := n.Int64()
	if m["size"] == nil {
		c.fail(ociDESC005, path+"/size", "descriptor has no size")
	} else if c.expect(ociDESC005, isNum && err == nil && size >= 0, path+"/size", "descriptor size %s is not a non-negative integer", show(m["size"])) {
		d.Size, d.sizeOK = size, true
	}
	if u, present := m["urls"]; present {
		arr, isArr := u.([]any)
		c.expect(ociDESC008, isArr, path+"/urls", "urls is not an array")
		for i, e := range arr {
			s, _ := e.(string)
			pu, err := url.Parse(s)
			p := fmt.Sprintf("%s/urls[%d]", path, i)
			if c.expect(ociDESC008, err == nil && pu.Scheme != "" && isStringVal(e), p, "%v is not an RFC 3986 URI", e) {
				c.expect(ociDESC009, pu.Scheme == "http" || pu.Scheme == "https", p, "scheme %q is not http or https", pu.Scheme)
			}
		}
	}
	if a, present := m["annotations"]; present {
		c.apply(ociDESC010)
		d.Annotations = c.annotations(path+"/annotations", a, onIndexJSON, ociDESC010)
	}
	if at, present := m["artifactType"]; present {
		s, _ := at.(string)
		c.mediaType(ociDESC013, path+"/artifactType", s)
		d.ArtifactType = s
	}
	if data, present := m["data"]; present {
		s, isStr := data.(string)
		raw, err := base64.StdEncoding.DecodeString(s)
		if c.expect(ociDESC011, isStr && err == nil, path+"/data", "data is not standard base64") && d.sizeOK && d.digestOK {
			c.expect(ociDESC012, int64(len(raw)) == d.Size && digestMatches(d.Digest, raw), path+"/data",
				"decoded data (%d bytes) does not have the descriptor's size and digest", len(raw))
		}
	}
	if d.MediaType == verify.MediaTypeOCIEmpty {
		c.expect(ociMAN017, d.Size == 2 && d.Digest == emptyDigest, path, "empty descriptor must have size 2 and digest %s", emptyDigest)
	}
	if p, present := m["platform"]; present {
		d.Platform = c.platform(path+"/platform", p)
	}
	return d, true
}

func isStringVal(v any) bool { _, ok := v.(string); return ok }

func digestMatches(d string, b []byte) bool {
	alg, enc, _ := strings.Cut(d, ":")
	switch alg {
	case "sha256":
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:]) == enc
	case "sha512":
		s := sha512.Sum512(b)
		return hex.EncodeToString(s[:]) == enc
	}
	return true
}

// annotations checks an annotations map; rule is the rule of the owner
// ("MUST use the annotation rules").
func (c *checker) annotations(path string, v any, onIndexJSON bool, rule ruleID) map[string]any {
	c.apply(ociANN001, ociANN003, ociANN004, ociANN005, rule)
	if v == nil {
		c.fail(ociANN005, path, "annotations is null; with no annotations it must be absent or {}")
		c.fail(rule, path, "annotations break the annotation rules")
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.fail(ociANN001, path, "annotations is not an object")
		c.fail(rule, path, "annotations break the annotation rules")
		return nil
	}
	for _, k := range sortedKeys(m) {
		val := m[k]
		p := path + "/" + k
		s, isStr := val.(string)
		if !c.expect(ociANN001, isStr, p, "annotation value is not a string") {
			c.fail(rule, p, "annotations break the annotation rules")
			continue
		}
		c.expect(ociANN003, strings.Contains(k, "."), p, "annotation key is not in reverse domain notation")
		if strings.HasPrefix(k, "org.opencontainers.image.") && !knownOCIAnnotation[k] {
			c.fail(ociANN004, p, "key uses the reserved org.opencontainers.image namespace but the image spec does not define it")
			c.fail(rule, p, "annotations break the annotation rules")
		}
		switch k {
		case "org.opencontainers.image.ref.name":
			c.expect(ociANN006, refNameRE.MatchString(s), p, "ref.name %q does not match the ref grammar", s)
			c.expect(ociLAYOUT010, onIndexJSON, p, "ref.name annotation outside index.json")
		case "org.opencontainers.image.created":
			_, err := time.Parse(time.RFC3339Nano, s)
			c.expect(ociANN007, err == nil, p, "%q is not an RFC 3339 date-time", s)
		case "org.opencontainers.image.base.name":
			c.expect(ociANN009, fullyQualified(s), p, "%q is not a fully qualified reference", s)
		case "org.opencontainers.image.base.digest":
			alg, enc, ok := strings.Cut(s, ":")
			c.expect(ociANN008, ok && algRE.MatchString(alg) && encRE.MatchString(enc), p, "%q is not a digest", s)
		}
	}
	return m
}

var knownOCIAnnotation = map[string]bool{}

func init() {
	for _, k := range []string{"created", "authors", "url", "documentation", "source", "version", "revision", "vendor",
		"licenses", "ref.name", "title", "description", "base.digest", "base.name"} {
		knownOCIAnnotation["org.opencontainers.image."+k] = true
	}
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

var refRE = regexp.MustCompile(`^([A-Za-z0-9.-]+(?::[0-9]+)?)/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+)?$`)

// fullyQualified reports whether s is a reference whose first component is
// a registry host (it holds a dot or a port, or is localhost).
func fullyQualified(s string) bool {
	m := refRE.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	host := m[1]
	return strings.ContainsAny(host, ".:") || host == "localhost"
}

// show prints a decoded JSON value for a message: absent as absent,
// numbers as numbers, strings quoted, anything else as JSON.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "absent"
	case string:
		return strconv.Quote(x)
	case json.Number:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// showValue prints a string field a descriptor check already read, where
// the empty string stands for a value that is absent or not a string.
func showValue(s string) string {
	if s == "" {
		return "absent"
	}
	return strconv.Quote(s)
}
