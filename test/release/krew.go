// Package release checks the release packaging (goreleaser config, krew
// manifests, completion script, RBAC manifest) and holds the helpers that
// render .krew.yaml the way krew-release-bot does, so the manifest published
// on a release and the one tested here come from the same template.
package release

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"
)

// ShaFunc returns the sha256 (hex) of the release asset at uri.
type ShaFunc func(uri string) (string, error)

// RenderKrewTemplate renders a krew-release-bot template (.krew.yaml) for tag.
//
// The bot offers exactly two functions and we offer the same two, so a
// template that renders here renders there: addURIAndSha(url, tag) renders url
// as a template against {TagName: tag} and returns "uri: <url>" and, on the
// next line indented by four spaces, "sha256: <sum>"; indent(n, s) re-indents
// such a block. The template data carries only TagName.
func RenderKrewTemplate(tmpl []byte, tag string, sha ShaFunc) ([]byte, error) {
	var errs []error
	funcs := template.FuncMap{
		"addURIAndSha": func(url, tag string) string {
			u, err := template.New("url").Parse(url)
			if err != nil {
				errs = append(errs, fmt.Errorf("parsing url %q: %w", url, err))
				return ""
			}
			var b bytes.Buffer
			if err := u.Execute(&b, struct{ TagName string }{tag}); err != nil {
				errs = append(errs, fmt.Errorf("rendering url %q: %w", url, err))
				return ""
			}
			sum, err := sha(b.String())
			if err != nil {
				errs = append(errs, err)
				return ""
			}
			return fmt.Sprintf("uri: %s\n    sha256: %s", b.String(), sum)
		},
		"indent": func(n int, s string) string {
			s = strings.ReplaceAll(s, "    sha256:", "sha256:")
			pad := strings.Repeat(" ", n)
			return strings.TrimSpace(pad + strings.ReplaceAll(s, "\n", "\n"+pad))
		},
	}
	t, err := template.New(".krew.yaml").Funcs(funcs).Option("missingkey=error").Parse(string(tmpl))
	if err != nil {
		return nil, fmt.Errorf("parsing krew template: %w", err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, struct{ TagName string }{tag}); err != nil {
		return nil, fmt.Errorf("rendering krew template: %w", err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("rendering krew template: %w", errs[0])
	}
	return out.Bytes(), nil
}

// DistSha returns a ShaFunc that resolves a release URI to the archive of the
// same base name in a goreleaser dist directory: the sum is taken from
// checksums.txt and checked against the file itself, so a stale or partial
// dist fails loudly instead of producing a manifest that cannot install.
func DistSha(dist string) (ShaFunc, error) {
	sums, err := ReadChecksums(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		return nil, err
	}
	return func(uri string) (string, error) {
		name := path.Base(uri)
		want, ok := sums[name]
		if !ok {
			return "", fmt.Errorf("%s is not in %s/checksums.txt: archive names in .krew.yaml and .goreleaser.yaml differ, or dist is from a partial build", name, dist)
		}
		got, err := FileSha256(filepath.Join(dist, name))
		if err != nil {
			return "", err
		}
		if got != want {
			return "", fmt.Errorf("%s: sha256 %s does not match checksums.txt (%s)", name, got, want)
		}
		return want, nil
	}, nil
}

// FakeSha stands in for real archives when only the template's shape is
// checked: a well-formed sum derived from the URI.
func FakeSha(uri string) (string, error) {
	s := sha256.Sum256([]byte(uri))
	return hex.EncodeToString(s[:]), nil
}

// ReadChecksums parses a goreleaser checksums file ("<sha256>  <name>" lines)
// into name -> sum.
func ReadChecksums(file string) (map[string]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading checksums: %w (run make dist first)", err)
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 || len(fields[0]) != 64 {
			return nil, fmt.Errorf("%s: malformed line %q", file, sc.Text())
		}
		sums[fields[1]] = fields[0]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading checksums: %w", err)
	}
	return sums, nil
}

// FileSha256 returns the hex sha256 of a file.
func FileSha256(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

// DistMetadata is the part of goreleaser's dist/metadata.json we use.
type DistMetadata struct {
	ProjectName string `json:"project_name"`
	Tag         string `json:"tag"`
	Version     string `json:"version"`
	Commit      string `json:"commit"`
}

// ReadDistMetadata reads dist/metadata.json.
func ReadDistMetadata(dist string) (DistMetadata, error) {
	var m DistMetadata
	b, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err != nil {
		return m, fmt.Errorf("reading goreleaser metadata: %w (run make dist first)", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("parsing %s/metadata.json: %w", dist, err)
	}
	return m, nil
}

// TagFor is the krew version (and .TagName) of a goreleaser version: the
// version with the "v" that goreleaser strips from tags put back.
func TagFor(version string) string {
	return "v" + strings.TrimPrefix(version, "v")
}
