package docker

import (
	"context"
	"fmt"
)

// dockerStatus says which engine the docker provider would use and why,
// or in one line why there is none and what to do.
func dockerStatus(ctx context.Context, cfg *Config) providerStatus {
	c := *cfg
	c.withDockerDefaults()
	eng, err := pingDocker(ctx)
	if err != nil {
		why := oneLine(err.Error())
		return providerStatus{name: ProviderDocker, detail: "unavailable: " + why, why: why,
			fix: "start a Docker engine, or point DOCKER_HOST or DOCKER_CONTEXT at one, to use containers"}
	}
	return providerStatus{name: ProviderDocker, detail: fmt.Sprintf("available: the engine at %s answered; images %s and %s (pull timeout %v)",
		eng.found, c.PostgresImage, c.RedisImage, c.PullTimeout)}
}

// autoFallback returns the line saying that "auto" skips the docker
// provider and falls back to local, and why; or "" when that is not what
// happens.
func autoFallback(provider string, cfg *Config, sts []providerStatus) string {
	if provider != ProviderAuto || cfg.PostgresURL != "" || cfg.RedisURL != "" {
		return ""
	}
	var dockerWhy, localWhy string
	for _, st := range sts {
		switch st.name {
		case ProviderDocker:
			dockerWhy = st.why
		case ProviderLocal:
			localWhy = st.why
		}
	}
	switch {
	case dockerWhy == "":
		return ""
	case localWhy == "":
		return fmt.Sprintf("auto: falls back to local, because the docker provider is unavailable: %s", dockerWhy)
	}
	return fmt.Sprintf("auto: cannot fall back to local either (%s), and the docker provider is unavailable: %s", localWhy, dockerWhy)
}
