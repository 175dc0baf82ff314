package conformance

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/imgproof/imgproof/verify"
)

func sortStrings(s []string) { sort.Strings(s) }

var (
	knownOS   = set("aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris wasip1 windows zos")
	knownArch = set("386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le mips64p32 mips64p32le ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm")
	variants  = map[string]func(string) bool{
		"arm":     func(v string) bool { return v == "v5" || v == "v6" || v == "v7" || v == "v8" },
		"arm64":   func(v string) bool { return len(v) >= 2 && (strings.HasPrefix(v, "v8") || strings.HasPrefix(v, "v9")) },
		"ppc64le": func(v string) bool { return strings.HasPrefix(v, "power") },
		"riscv64": func(v string) bool { return strings.HasPrefix(v, "rva") },
		"amd64":   func(v string) bool { return v == "v1" || v == "v2" || v == "v3" || v == "v4" },
	}
	imageManifestTypes = set(verify.MediaTypeOCIManifest + " " + verify.MediaTypeDockerManifest)
	indexTypes         = set(verify.MediaTypeOCIIndex + " " + verify.MediaTypeDockerList)
	imageConfigTypes   = set(verify.MediaTypeOCIConfig + " " + verify.MediaTypeDockerConfig)
	layerTypes         = set("application/vnd.oci.image.layer.v1.tar application/vnd.oci.image.layer.v1.tar+gzip application/vnd.oci.image.layer.v1.tar+zstd " +
		"application/vnd.oci.image.layer.nondistributable.v1.tar application/vnd.oci.image.layer.nondistributable.v1.tar+gzip application/vnd.oci.image.layer.nondistributable.v1.tar+zstd " +
		verify.MediaTypeDockerLayer + " " + verify.MediaTypeDockerForeign + " application/vnd.docker.image.rootfs.diff.tar")
)

func set(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

// platform checks a platform object; from is the rule family (index).
func (c *checker) platform(path string, v any) map[string]any {
	m, ok := v.(map[string]any)
	if !c.expect(ociIDX016, ok, path, "platform is not an object") {
		return nil
	}
	arch, archOK := m["architecture"].(string)
	os, osOK := m["os"].(string)
	c.expect(ociIDX008, archOK, path+"/architecture", "platform has no string architecture")
	c.expect(ociIDX009, osOK, path+"/os", "platform has no string os")
	if arch == "unknown" && os == "unknown" {
		return m // buildx attestation manifests
	}
	c.expect(ociIDX010, !archOK || knownArch[arch], path+"/architecture", "%q is not a GOARCH value", arch)
	c.expect(ociIDX011, !osOK || knownOS[os], path+"/os", "%q is not a GOOS value", os)
	if vv, present := m["variant"]; present {
		s, isStr := vv.(string)
		c.expect(ociIDX016, isStr, path+"/variant", "variant is not a string")
		if f := variants[arch]; f != nil && isStr {
			c.expect(ociIDX012, f(s), path+"/variant", "variant %q is not listed for %s", s, arch)
		}
	}
	if vv, present := m["os.version"]; present {
		c.expect(ociIDX016, isStringVal(vv), path+"/os.version", "os.version is not a string")
	}
	if vv, present := m["os.features"]; present {
		arr, isArr := vv.([]any)
		c.expect(ociIDX016, isArr && allStrings(arr), path+"/os.features", "os.features is not an array of strings")
		if os == "windows" {
			for _, f := range arr {
				c.expect(ociIDX015, f == "win32k", path+"/os.features", "unknown windows os.feature %v", f)
			}
		}
	}
	return m
}

func allStrings(a []any) bool {
	for _, e := range a {
		if _, ok := e.(string); !ok {
			return false
		}
	}
	return true
}

func isInt(v any, want int64) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	i, err := n.Int64()
	return err == nil && i == want && !strings.ContainsAny(string(n), ".eE")
}

// visit runs the rules of one node of the verifier's graph as Walk
// reaches it, and returns whether Walk goes below it: index.json, an
// index entry (its descriptor, then the document its kind leads to), the
// config of a manifest whose rules call for it. The rules read each
// document's JSON tree, so that they see mistyped fields.
func (c *checker) visit(n *verify.Node) bool {
	switch parent := n.Parent(); {
	case parent == nil:
		return c.root(n)
	case parent.Kind() == verify.NodeIndex:
		return c.entry(n)
	case n.Kind() == verify.NodeConfig:
		c.inIndexJSON = false
		if nLayers, ok := c.configs[parent.Path()]; ok {
			if b, ok := c.readDoc(n); ok {
				c.config(n.Path(), b, nLayers)
			}
		}
	}
	return false
}

// root checks index.json; rootRead records that it was read as JSON, so
// that OCI-LAYOUT-006 can be judged once the walk is done.
func (c *checker) root(n *verify.Node) bool {
	b, err := n.Document()
	if err != nil {
		c.fail(ociLAYOUT006, "index.json", err.Error())
		return false
	}
	if err := notJSON(b); err != nil {
		c.fail(ociLAYOUT006, "index.json", "index.json is not JSON: "+err.Error())
		return false
	}
	c.rootRead, c.indexJSONBad, c.inIndexJSON = true, false, true
	return c.index(n, b, "")
}

// entry checks an entry of an index, the node n: its descriptor, then
// the document it leads to by the node's kind. A manifest named again is
// not checked again; its entry is judged by what the first check found.
func (c *checker) entry(n *verify.Node) bool {
	p := n.Path()
	onIndexJSON := n.Parent().Parent() == nil
	c.inIndexJSON = onIndexJSON
	d, ok := c.descriptor(p, jsonValue(n.RawDescriptor()), onIndexJSON)
	if !c.expect(ociIDX005, ok, p, "manifests entry is not a descriptor object") {
		return false
	}
	c.expect(ociIDX006, imageManifestTypes[d.MediaType] || indexTypes[d.MediaType] || d.MediaType == "", p+"/mediaType",
		"%s is not an OCI or Docker manifest or index media type", showValue(d.MediaType))
	attestation := d.Annotations["vnd.docker.reference.type"] == "attestation-manifest"
	switch n.Kind() {
	case verify.NodeIndex:
		b, ok := c.readDoc(n)
		if !ok || n.First() != nil {
			return false
		}
		c.inIndexJSON = false
		return c.index(n, b, d.MediaType)
	case verify.NodeManifest:
		isImage, checked, below := false, false, false
		if first := n.First(); first != nil {
			isImage, checked = c.images[first.Path()]
		} else if b, ok := c.readDoc(n); ok {
			c.inIndexJSON = false
			isImage, below = c.manifest(n, b, d.MediaType, attestation)
			c.images[p], checked = isImage, true
			c.inIndexJSON = onIndexJSON
		}
		if checked && isImage && !attestation {
			c.expect(ociIDX007, d.Platform != nil, p, "index entry of a runnable image has no platform")
			if d.MediaType == verify.MediaTypeOCIManifest {
				c.expect(ociDESC014, d.Platform != nil, p, "descriptor of an image manifest has no platform")
			}
		}
		return below
	}
	return false
}

// index checks an image index document, the node n of the verifier's
// graph, and returns whether its entries are to be checked.
func (c *checker) index(n *verify.Node, data []byte, descMT string) bool {
	path := n.Path()
	v, ok := c.parseJSON(path, data)
	if !ok {
		return false
	}
	m, isObj := v.(map[string]any)
	if !c.expect(imgproofDOC001, isObj, path, "image index is not a JSON object") {
		return false
	}
	c.expect(ociIDX001, isInt(m["schemaVersion"], 2), path+"/schemaVersion", "schemaVersion is %s, not 2", show(m["schemaVersion"]))
	mt, present := m["mediaType"]
	c.expect(ociIDX002, present, path, "index has no mediaType field")
	if present {
		s, _ := mt.(string)
		c.expect(ociIDX003, indexTypes[s] && (descMT == "" || s == descMT), path+"/mediaType",
			"mediaType %s is not the index media type the descriptor declares (%s)", show(mt), orAny(descMT, verify.MediaTypeOCIIndex))
	}
	if at, present := m["artifactType"]; present {
		s, _ := at.(string)
		c.mediaType(ociIDX004, path+"/artifactType", s)
	}
	if a, present := m["annotations"]; present {
		c.annotations(path+"/annotations", a, false, ociIDX014)
	}
	if s, present := m["subject"]; present {
		_, ok := c.descriptor(path+"/subject", s, false)
		c.expect(ociIDX013, ok, path+"/subject", "subject is not a descriptor")
	}
	_, isArr := m["manifests"].([]any)
	return c.expect(ociIDX005, isArr, path+"/manifests", "manifests is missing or not an array")
}

func orAny(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// manifest checks an image manifest, the node n of the verifier's graph.
// It reports whether the manifest is a runnable image (its config is an
// image config), and whether its config is to be checked below it.
func (c *checker) manifest(n *verify.Node, data []byte, descMT string, attestation bool) (isImage, below bool) {
	path := n.Path()
	v, ok := c.parseJSON(path, data)
	if !ok {
		return false, false
	}
	m, isObj := v.(map[string]any)
	if !c.expect(imgproofDOC001, isObj, path, "image manifest is not a JSON object") {
		return false, false
	}
	c.expect(ociMAN001, isInt(m["schemaVersion"], 2), path+"/schemaVersion", "schemaVersion is %s, not 2", show(m["schemaVersion"]))
	mt, present := m["mediaType"]
	c.expect(ociMAN002, present, path, "manifest has no mediaType field")
	if present {
		s, _ := mt.(string)
		c.expect(ociMAN003, imageManifestTypes[s] && (descMT == "" || s == descMT), path+"/mediaType",
			"mediaType %s is not the manifest media type the descriptor declares (%s)", show(mt), orAny(descMT, verify.MediaTypeOCIManifest))
	}
	artifactType, hasAT := m["artifactType"].(string)
	if at, present := m["artifactType"]; present {
		s, _ := at.(string)
		c.mediaType(ociMAN005, path+"/artifactType", s)
	}
	if a, present := m["annotations"]; present {
		c.annotations(path+"/annotations", a, false, ociMAN014)
	}
	if s, present := m["subject"]; present {
		_, ok := c.descriptor(path+"/subject", s, false)
		c.expect(ociMAN013, ok, path+"/subject", "subject is not a descriptor")
	}
	cfg, ok := c.descriptor(path+"/config", m["config"], false)
	if !c.expect(ociMAN006, ok, path+"/config", "config is missing or not a descriptor") {
		return false, false
	}
	// BuildKit attestation manifests use an image config type for in-toto
	// statement layers; they are artifacts, not runnable images.
	isImage = imageConfigTypes[cfg.MediaType] && !attestation
	isEmpty := cfg.MediaType == verify.MediaTypeOCIEmpty
	if isEmpty {
		// Guidelines for Artifact Usage restate this sentence (OCI-MAN-015):
		// one defect, reported once, by the artifactType property's rule.
		if c.expect(ociMAN004, hasAT && artifactType != "", path+"/artifactType", "config is the empty descriptor but artifactType is not set") {
			c.apply(ociMAN015)
		}
	}
	// OCI-MAN-020 binds only "content other than OCI container images".
	// Like verify, a manifest is a container image when one of its blobs
	// is a layer; a relabelled config (Docker Hub's application/octet-stream
	// configs) does not make an image an artifact, and for images the
	// config type is only the SHOULD of OCI-MAN-007.
	if !imageConfigTypes[cfg.MediaType] && !hasLayerBlob(m["layers"]) {
		c.expect(ociMAN020, cfg.MediaType != "application/octet-stream" && cfg.MediaType != "application/json",
			path+"/config/mediaType", "artifact config.mediaType %s is not specific to the artifact type", showValue(cfg.MediaType))
	}
	c.expect(ociMAN007, isImage || isEmpty || hasAT, path+"/config/mediaType",
		"config.mediaType %s is neither an image config, the empty type, nor paired with artifactType", showValue(cfg.MediaType))
	layersV, present := m["layers"]
	layers, isArr := layersV.([]any)
	if !c.expect(ociMAN008, present && isArr, path+"/layers", "layers is missing or not an array") {
		return isImage, false
	}
	c.expect(ociMAN009, len(layers) > 0, path+"/layers", "manifest has no layers")
	if !isImage {
		nonZero := false
		for _, l := range layers {
			if lm, ok := l.(map[string]any); ok {
				if n, ok := lm["size"].(json.Number); ok && n.String() != "0" {
					nonZero = true
				}
			}
		}
		c.expect(ociMAN016, nonZero, path+"/layers", "artifact manifest has no layer of non-zero size")
	}
	for i, l := range layers {
		p := fmt.Sprintf("%s/layers[%d]", path, i)
		d, ok := c.descriptor(p, l, false)
		if !c.expect(ociMAN008, ok, p, "layers entry is not a descriptor object") {
			continue
		}
		if p, ok := blobPath(d.Digest); ok {
			c.blobs[p] = true
			if isImage && layerTypes[d.MediaType] {
				c.tarLayers[p] = true
			}
		}
		if isImage {
			c.apply(ociLAYER003)
			c.expect(ociMAN011, layerTypes[d.MediaType], p+"/mediaType", "%s is not an OCI or Docker layer media type", showValue(d.MediaType))
			c.expect(ociLAYER010, !strings.Contains(d.MediaType, "nondistributable") && !strings.Contains(d.MediaType, "foreign"),
				p+"/mediaType", "non-distributable layer media type %q", d.MediaType)
		}
	}
	// OCI-MAN-012 restates OCI-DESC-002 for config and layers; a bad
	// value is reported once, by OCI-DESC-002, and never passes here.
	if mediaTypesOK(cfg.MediaType, layers) {
		c.apply(ociMAN012)
	}
	if isImage && cfg.digestOK {
		c.configs[path] = len(layers)
		return isImage, true
	}
	return isImage, false
}

// config checks an image config; nLayers is the number of layers that
// reference it (-1 when unknown).
func (c *checker) config(path string, data []byte, nLayers int) {
	v, ok := c.parseJSON(path, data)
	if !ok {
		return
	}
	m, isObj := v.(map[string]any)
	if !c.expect(imgproofDOC001, isObj, path, "image config is not a JSON object") {
		return
	}
	c.apply(ociCFG010, ociCFG014, ociMAN010)
	// The schema requires the keys as strings; an empty value passes the
	// schema and fails the SHOULD rules on known values.
	arch, archOK := m["architecture"].(string)
	os, osOK := m["os"].(string)
	c.expect(ociCFG001, archOK, path+"/architecture", "architecture is missing or not a string")
	c.expect(ociCFG002, osOK, path+"/os", "os is missing or not a string")
	c.expect(ociCFG003, !archOK || knownArch[arch], path+"/architecture", "%q is not a GOARCH value", arch)
	c.expect(ociCFG004, !osOK || knownOS[os], path+"/os", "%q is not a GOOS value", os)
	c.typed(m, path, ociCFG016, "variant", isStringVal)
	c.typed(m, path, ociCFG017, "os.version", isStringVal)
	c.typed(m, path, ociCFG018, "os.features", isStrings)
	c.history(m, path)
	if vv, ok := m["variant"].(string); ok {
		if f := variants[arch]; f != nil {
			c.expect(ociCFG005, f(vv), path+"/variant", "variant %q is not listed for %s", vv, arch)
		}
	}
	c.apply(ociCFG011)
	if cr, present := m["created"]; present && cr != nil {
		s, _ := cr.(string)
		_, err := time.Parse(time.RFC3339Nano, s)
		c.expect(ociCFG011, err == nil, path+"/created", "created %s is not an RFC 3339 date-time", show(cr))
	}
	if cc, present := m["config"]; present && cc != nil {
		c.execConfig(path+"/config", cc)
	}
	rootfs, isObj := m["rootfs"].(map[string]any)
	if !c.expect(ociCFG007, isObj, path+"/rootfs", "rootfs is missing or not an object") {
		return
	}
	c.expect(ociCFG008, rootfs["type"] == "layers", path+"/rootfs/type", "rootfs.type is %s, not \"layers\"", show(rootfs["type"]))
	ids, isArr := rootfs["diff_ids"].([]any)
	if !c.expect(ociCFG009, isArr, path+"/rootfs/diff_ids", "rootfs.diff_ids is missing or not an array") {
		return
	}
	for i, id := range ids {
		s, isStr := id.(string)
		p := fmt.Sprintf("%s/rootfs/diff_ids[%d]", path, i)
		if c.expect(ociCFG009, isStr, p, "diff_id is not a string") && !c.digest(p, s) {
			c.fail(ociCFG009, p, fmt.Sprintf("diff_id %q is not a valid digest", s))
		}
	}
	if nLayers >= 0 {
		c.expect(ociMAN019, len(ids) == nLayers, path+"/rootfs/diff_ids", "config has %d diff_ids for %d layers", len(ids), nLayers)
	}
	if h, present := m["history"]; present && h != nil {
		hist, isArr := h.([]any)
		if isArr && len(hist) > 0 { // types: OCI-CFG-019 (history)
			nonEmpty := 0
			for i, e := range hist {
				em, _ := e.(map[string]any)
				if em == nil {
					continue
				}
				if b, _ := em["empty_layer"].(bool); !b {
					nonEmpty++
				}
				if cr, ok := em["created"].(string); ok {
					_, err := time.Parse(time.RFC3339Nano, cr)
					c.expect(ociCFG011, err == nil, fmt.Sprintf("%s/history[%d]/created", path, i), "%q is not an RFC 3339 date-time", cr)
				}
			}
			c.expect(ociCFG015, nonEmpty == len(ids), path+"/history", "%d history entries create layers, but there are %d diff_ids", nonEmpty, len(ids))
		}
	}
}

// execConfig checks the types of the config object.
func (c *checker) execConfig(path string, v any) {
	m, ok := v.(map[string]any)
	if !c.expect(ociCFG012, ok, path, "config is not an object") {
		return
	}
	str := func(k string) {
		if x, present := m[k]; present && x != nil {
			c.expect(ociCFG012, isStringVal(x), path+"/"+k, "%s is not a string", k)
		}
	}
	obj := func(k string) map[string]any {
		if x, present := m[k]; present && x != nil {
			o, ok := x.(map[string]any)
			c.expect(ociCFG012, ok, path+"/"+k, "%s is not an object", k)
			return o
		}
		return nil
	}
	strs := func(k string) []any {
		if x, present := m[k]; present && x != nil {
			a, ok := x.([]any)
			c.expect(ociCFG012, ok && allStrings(a), path+"/"+k, "%s is not an array of strings", k)
			return a
		}
		return nil
	}
	str("User")
	str("WorkingDir")
	str("StopSignal")
	obj("ExposedPorts")
	obj("Volumes")
	strs("Entrypoint")
	strs("Cmd")
	if x, present := m["ArgsEscaped"]; present && x != nil {
		_, ok := x.(bool)
		c.expect(ociCFG012, ok, path+"/ArgsEscaped", "ArgsEscaped is not a boolean")
	}
	c.apply(ociCFG013)
	for i, e := range strs("Env") {
		s, isStr := e.(string) // a non-string entry is OCI-CFG-012's
		c.expect(ociCFG013, !isStr || envRE.MatchString(s), fmt.Sprintf("%s/Env[%d]", path, i), "%q is not VARNAME=VARVALUE", s)
	}
	c.apply(ociCFG006)
	if labels := obj("Labels"); labels != nil {
		for _, k := range sortedKeys(labels) {
			c.expect(ociCFG006, isStringVal(labels[k]), path+"/Labels/"+k, "label value is not a string")
		}
	}
}

// mediaTypesOK reports whether a manifest's config and layer media types
// are all present and in the RFC 6838 grammar.
func mediaTypesOK(config string, layers []any) bool {
	if !mediaTypeRE.MatchString(config) {
		return false
	}
	for _, l := range layers {
		lm, _ := l.(map[string]any)
		if mt, _ := lm["mediaType"].(string); !mediaTypeRE.MatchString(mt) {
			return false
		}
	}
	return true
}

// hasLayerBlob reports whether a manifest's layers list holds a descriptor
// with an image layer media type: the test verify uses to tell a container
// image from an artifact whose blobs are not layers.
func hasLayerBlob(v any) bool {
	ls, _ := v.([]any)
	for _, l := range ls {
		if lm, ok := l.(map[string]any); ok {
			if mt, _ := lm["mediaType"].(string); layerTypes[mt] {
				return true
			}
		}
	}
	return false
}

// typed fails rule id when the optional field key of m is present with a
// JSON type other than the one ok accepts.
func (c *checker) typed(m map[string]any, path string, id ruleID, key string, ok func(any) bool) {
	c.apply(id)
	if v, present := m[key]; present && v != nil {
		c.expect(id, ok(v), path+"/"+key, "%s %s has the wrong JSON type", key, show(v))
	}
}

// isStrings reports whether v is a JSON array of strings.
func isStrings(v any) bool {
	a, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range a {
		if !isStringVal(e) {
			return false
		}
	}
	return true
}

// history checks the JSON types of a config's history entries (OCI-CFG-019).
func (c *checker) history(m map[string]any, path string) {
	c.apply(ociCFG019)
	h, present := m["history"]
	if !present || h == nil {
		return
	}
	list, isArr := h.([]any)
	if !c.expect(ociCFG019, isArr, path+"/history", "history %s is not an array", show(h)) {
		return
	}
	for i, e := range list {
		p := fmt.Sprintf("%s/history[%d]", path, i)
		em, isObj := e.(map[string]any)
		if !c.expect(ociCFG019, isObj, p, "history entry %s is not an object", show(e)) {
			continue
		}
		for _, k := range []string{"created", "author", "created_by", "comment"} {
			c.typed(em, p, ociCFG019, k, isStringVal)
		}
		c.typed(em, p, ociCFG019, "empty_layer", func(v any) bool { _, ok := v.(bool); return ok })
	}
}
