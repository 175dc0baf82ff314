package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/imgproof/imgproof/internal/limits"
	"github.com/imgproof/imgproof/verify"
)

var (
	repoTagRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	// repoTagHostRE admits a registry host with dots or a port as first component.
	repoTagHostRE = regexp.MustCompile(`^[A-Za-z0-9.-]+(?::[0-9]+)?/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// checkDocker checks a docker save archive: manifest.json, the configs and
// layers it names, repositories and the legacy layer directories.
func (c *checker) checkDocker() {
	b, err := readAll(c.files, "manifest.json", limits.ArchiveMetadata, c.lim.ArchiveMetadata)
	if err != nil {
		c.fail(dockerMAN001, "manifest.json", err.Error())
		return
	}
	v, ok := c.parseJSON("manifest.json", b)
	if !ok {
		c.fail(dockerMAN001, "manifest.json", "manifest.json is not valid JSON")
		return
	}
	list, isArr := v.([]any)
	if !c.expect(dockerMAN001, isArr, "manifest.json", "manifest.json is not a JSON array") {
		return
	}
	c.expect(dockerMAN007, len(list) > 0, "manifest.json", "manifest.json lists no image")
	configs := map[string]bool{}   // config file names
	configIDs := map[string]bool{} // config digests, for Parent
	parents := map[int]string{}
	var tags []string
	for i, e := range list {
		p := fmt.Sprintf("manifest.json[%d]", i)
		m, isObj := e.(map[string]any)
		m = c.dockerKeys(p, m)
		cfgName, cfgOK := m["Config"].(string)
		layersV, _ := m["Layers"].([]any)
		rt, rtPresent := m["RepoTags"]
		rtArr, rtIsArr := rt.([]any)
		ok := isObj && cfgOK && cfgName != "" && m["Layers"] != nil && allStrings(layersV) && layersV != nil &&
			(!rtPresent || rt == nil || rtIsArr && allStrings(rtArr))
		if !c.expect(dockerMAN001, ok, p, "entry needs Config (string), Layers (array of strings) and RepoTags (array of strings or null)") {
			continue
		}
		for j, t := range rtArr {
			s := t.(string)
			tags = append(tags, s)
			c.expect(dockerMAN005, repoTagRE.MatchString(s) || repoTagHostRE.MatchString(s), fmt.Sprintf("%s/RepoTags[%d]", p, j), "%q is not a name:tag reference", s)
		}
		cfgClean, safe := verify.CleanName(cfgName)
		c.expect(imgproofARCH002, safe, p+"/Config", "config path %q leaves the archive", cfgName)
		configIDs["sha256:"+hexFromName(cfgClean)] = true
		c.expect(dockerMAN007, !configs[cfgClean], p+"/Config", "two entries name config %s", cfgName)
		configs[cfgClean] = true
		if par, present := m["Parent"]; present && par != nil && par != "" {
			s, _ := par.(string)
			parents[i] = s
		}
		nLayers := len(layersV)
		for j, l := range layersV {
			name, safe := verify.CleanName(l.(string))
			c.expect(imgproofARCH002, safe, fmt.Sprintf("%s/Layers[%d]", p, j), "layer path %q leaves the archive", l)
			c.blobs[name] = true
			c.tarLayers[name] = true
			// Docker links repeated layers; the verifier may name the target.
			if target, err := c.files.Resolve(name); err == nil {
				c.tarLayers[target] = true
			}
			c.expect(dockerMAN003, c.has(name), fmt.Sprintf("%s/Layers[%d]", p, j), "layer file %s is not in the archive", l)
		}
		cb, err := readAll(c.files, cfgClean, limits.ConfigDocument, c.lim.ConfigDocument)
		if !c.expect(dockerMAN002, err == nil, p+"/Config", "config file %s cannot be read: %v", cfgName, err) {
			continue
		}
		c.blobs[cfgClean] = true
		sum := sha256.Sum256(cb)
		if h := hexFromName(cfgClean); h != "" {
			c.expect(dockerMAN002, h == hex.EncodeToString(sum[:]), p+"/Config", "config file %s hashes to sha256:%x", cfgName, sum)
		}
		before := len(c.results)
		c.config(p+"/Config", cb, nLayers)
		// docker save has no manifest: a count of Layers other than that
		// of diff_ids is DOCKER-MAN-004's alone.
		for i := before; i < len(c.results); i++ {
			if r := c.results[i]; r.Rule == ociMAN019.String() {
				c.results = append(c.results[:i], c.results[i+1:]...)
				i--
				c.fail(dockerMAN004, r.Path, r.Message)
			}
		}
		c.apply(dockerMAN004)
		if ls, present := m["LayerSources"]; present {
			c.layerSources(p+"/LayerSources", ls)
		}
	}
	for i, par := range parents {
		c.expect(dockerMAN006, configIDs[par], fmt.Sprintf("manifest.json[%d]/Parent", i), "Parent %s is not the config of another entry", par)
	}
	c.checkRepositories(tags)
	c.checkLegacy()
}

// dockerKeys returns an entry of manifest.json with its keys spelled as
// documented. Docker reads the file with Go's case-insensitive decoder, so
// Jib's "config", "repoTags" and "layers" mean Config, RepoTags and Layers;
// each such spelling fails the SHOULD rule DOCKER-MAN-009. Two spellings of
// one key are left to the verifier (E_JSON_KEY_ALIAS, IMGPROOF-JSON-001).
func (c *checker) dockerKeys(path string, m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c.apply(dockerMAN009)
	out := make(map[string]any, len(m))
	for _, k := range sortedKeys(m) {
		out[k] = m[k]
	}
	for _, k := range sortedKeys(m) {
		for _, want := range []string{"Config", "RepoTags", "Layers", "Parent", "LayerSources"} {
			if k == want || !strings.EqualFold(k, want) || !isASCII(k) {
				continue
			}
			c.fail(dockerMAN009, path+"/"+k, fmt.Sprintf("key %q is spelled %q", want, k))
			if _, exact := m[want]; !exact {
				out[want] = m[k]
			}
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hexFromName returns the hex digest a config or blob file name carries:
// <hex>.json or blobs/sha256/<hex>.
func hexFromName(n string) string {
	n = strings.TrimPrefix(n, "blobs/sha256/")
	n = strings.TrimPrefix(n, "sha256:")
	n = strings.TrimSuffix(n, ".json")
	if hex64RE.MatchString(n) {
		return n
	}
	return ""
}

func (c *checker) layerSources(path string, v any) {
	m, ok := v.(map[string]any)
	if !c.expect(dockerMAN008, ok, path, "LayerSources is not an object") {
		return
	}
	for _, k := range sortedKeys(m) {
		_, ok := c.descriptor(path+"/"+k, m[k], false)
		c.expect(dockerMAN008, ok, path+"/"+k, "LayerSources entry is not a descriptor")
	}
}

func (c *checker) checkRepositories(tags []string) {
	if !c.has("repositories") {
		return
	}
	b, err := readAll(c.files, "repositories", limits.ArchiveMetadata, c.lim.ArchiveMetadata)
	if !c.expect(dockerREPO001, err == nil, "repositories", "cannot read repositories: %v", err) {
		return
	}
	v, ok := c.parseJSON("repositories", b)
	m, isObj := v.(map[string]any)
	if !c.expect(dockerREPO001, ok && isObj, "repositories", "repositories is not a JSON object") {
		return
	}
	known := map[string]bool{}
	for _, t := range tags {
		known[t] = true
	}
	for _, repo := range sortedKeys(m) {
		tm, isObj := m[repo].(map[string]any)
		if !c.expect(dockerREPO001, isObj, "repositories/"+repo, "repository entry is not an object of tags") {
			continue
		}
		for _, tag := range sortedKeys(tm) {
			id, isStr := tm[tag].(string)
			p := "repositories/" + repo + "/" + tag
			c.expect(dockerREPO001, isStr && hex64RE.MatchString(id), p, "image ID %s is not 64 hex digits", show(tm[tag]))
			c.expect(dockerREPO002, known[repo+":"+tag], p, "%s:%s is not in any manifest.json RepoTags", repo, tag)
		}
	}
}

// checkLegacy checks the <id>/{VERSION,json,layer.tar} directories.
func (c *checker) checkLegacy() {
	dirs := map[string]map[string]bool{}
	var order []string
	for _, e := range c.files.Entries() {
		top, rest, nested := strings.Cut(e.Name, "/")
		if top == "blobs" || top == "" {
			continue
		}
		if nested && (rest == "VERSION" || rest == "json" || rest == "layer.tar") {
			if dirs[top] == nil {
				dirs[top] = map[string]bool{}
				order = append(order, top)
			}
			dirs[top][rest] = true
		}
	}
	for _, d := range order {
		files := dirs[d]
		c.expect(dockerLEGACY001, hex64RE.MatchString(d), d, "legacy layer directory name is not 64 lower-case hex digits")
		c.expect(dockerLEGACY004, files["VERSION"] && files["json"] && files["layer.tar"], d, "legacy layer directory lacks one of VERSION, json, layer.tar")
		if files["VERSION"] {
			b, err := readAll(c.files, d+"/VERSION", limits.ArchiveMetadata, c.lim.ArchiveMetadata)
			c.expect(dockerLEGACY002, err == nil && strings.TrimSpace(string(b)) == "1.0", d+"/VERSION", "VERSION is %q, not 1.0", quoteStart(b))
		}
		if files["json"] {
			b, err := readAll(c.files, d+"/json", limits.ConfigDocument, c.lim.ConfigDocument)
			if !c.expect(dockerLEGACY003, err == nil, d+"/json", "cannot read: %v", err) {
				continue
			}
			v, ok := c.parseJSON(d+"/json", b)
			m, isObj := v.(map[string]any)
			if c.expect(dockerLEGACY003, ok && isObj, d+"/json", "legacy json is not a JSON object") {
				if id, present := m["id"]; present {
					c.expect(dockerLEGACY003, id == d, d+"/json/id", "id %s is not the directory name", show(id))
				}
			}
		}
	}
}

// quoteStart is the start of a file's text for a message: at most 64
// bytes of it, so a large file does not fill the report.
func quoteStart(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}
