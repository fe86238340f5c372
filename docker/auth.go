package docker

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"

	dc "github.com/ory/dockertest/v3/docker"
)

// credentialHelperTimeout bounds one run of a docker credential helper; a
// helper that waits for a keychain prompt must not hold up the run.
const credentialHelperTimeout = 10 * time.Second

// dockerHubServer is the key under which the docker CLI stores Docker Hub
// credentials, and what it hands credential helpers.
const dockerHubServer = "https://index.docker.io/v1/"

// imageRegistry returns the registry host of an image reference, with
// Docker Hub as "docker.io": the first path component is a registry when
// it has a dot or a port, or is localhost.
func imageRegistry(image string) string {
	first, _, ok := strings.Cut(image, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return normalRegistry(first)
	}
	return "docker.io"
}

// normalRegistry reduces a registry key of config.json ("https://host/v1/",
// "host") to its host, with Docker Hub's names as "docker.io".
func normalRegistry(key string) string {
	k := strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	k, _, _ = strings.Cut(k, "/")
	switch k {
	case "index.docker.io", "registry-1.docker.io", "docker.io":
		return "docker.io"
	}
	return k
}

// registryAuth returns the credentials the docker CLI would use to pull
// image, from cfg: a credential helper for the registry (credHelpers, else
// credsStore), else its "auths" entry; and says where they came from. With
// none it returns empty credentials (an anonymous pull) and source "". A
// helper that fails is reported through logf and skipped, so that public
// images still pull.
func registryAuth(ctx context.Context, cfg *cliConfig, image string, logf func(string, ...any)) (dc.AuthConfiguration, string) {
	if cfg == nil {
		return dc.AuthConfiguration{}, ""
	}
	reg := imageRegistry(image)
	server := reg
	if reg == "docker.io" {
		server = dockerHubServer
	}
	helper := cfg.CredsStore
	for k, h := range cfg.CredHelpers {
		if normalRegistry(k) == reg {
			helper = h
		}
	}
	if helper != "" {
		a, err := runCredentialHelper(ctx, helper, server)
		if err == nil {
			return a, "docker-credential-" + helper
		}
		logf("registry %s: %v; trying config.json auths", reg, err)
	}
	for k, e := range cfg.Auths {
		if normalRegistry(k) != reg {
			continue
		}
		a := dc.AuthConfiguration{Username: e.Username, Password: e.Password, ServerAddress: server,
			IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
		if e.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(e.Auth)
			if err != nil {
				raw, err = base64.RawStdEncoding.DecodeString(e.Auth)
			}
			user, pw, ok := strings.Cut(string(raw), ":")
			if err != nil || !ok {
				logf("registry %s: the auth entry in %s is not base64 of user:password; pulling anonymously", reg, cfg.path)
				return dc.AuthConfiguration{}, ""
			}
			a.Username, a.Password = user, pw
		}
		if a == (dc.AuthConfiguration{ServerAddress: server}) {
			continue // an empty entry, as the CLI writes next to a credsStore
		}
		return a, cfg.path
	}
	return dc.AuthConfiguration{}, ""
}

// runCredentialHelper asks docker-credential-<helper> for the credentials
// of server, as the docker CLI does ("get", the server on standard input,
// JSON on standard output).
func runCredentialHelper(ctx context.Context, helper, server string) (dc.AuthConfiguration, error) {
	ctx, cancel := context.WithTimeout(ctx, credentialHelperTimeout)
	defer cancel()
	name := "docker-credential-" + helper
	cmd := exec.CommandContext(ctx, name, "get")
	cmd.Stdin = strings.NewReader(server)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(string(out) + " " + stderr.String())
		if msg != "" {
			return dc.AuthConfiguration{}, fmt.Errorf("credential helper %s: %v: %s", name, err, oneLine(msg))
		}
		return dc.AuthConfiguration{}, fmt.Errorf("credential helper %s: %w", name, err)
	}
	var c struct {
		Username string `json:"Username"`
		Secret   string `json:"Secret"`
	}
	if err := json.Unmarshal(out, &c); err != nil {
		return dc.AuthConfiguration{}, fmt.Errorf("credential helper %s: invalid answer: %v", name, err)
	}
	a := dc.AuthConfiguration{ServerAddress: server}
	if c.Username == "<token>" {
		a.IdentityToken = c.Secret
	} else {
		a.Username, a.Password = c.Username, c.Secret
	}
	return a, nil
}
