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
	images := fmt.Sprintf("images %s and %s", c.PostgresImage, c.RedisImage)
	if err := imagesPresent(ctx, eng, &c); err != nil {
		why := dockerFailure(err, eng.endpoint)
		fix := fmt.Sprintf("pull the images where a registry is reachable (docker pull %s; docker pull %s), or build local ones with `make docker-images` and name them in %s and %s",
			c.PostgresImage, c.RedisImage, EnvPostgresImage, EnvRedisImage)
		return providerStatus{name: ProviderDocker, why: why, fix: fix, hint: fix,
			detail: fmt.Sprintf("unusable: the engine at %s answered, but %s", eng.found, dockerProblem(err))}
	}
	return providerStatus{name: ProviderDocker, detail: fmt.Sprintf("available: the engine at %s answered; %s on the engine", eng.found, images)}
}

// imagesPresent makes sure the engine has the docker provider's images,
// pulling the missing ones as Provision would (under "auto", given up after
// autoPullStall without progress), so that doctor can say why they are
// missing.
func imagesPresent(ctx context.Context, eng *dockerEngine, c *Config) error {
	cli, _ := readCLIConfig(osEngineEnv().cliConfigDir())
	stall := pullStallTimeout
	if c.Provider == "" || c.Provider == ProviderAuto {
		stall = autoPullStall
	}
	pl := &puller{client: eng.pool.Client, endpoint: eng.endpoint, cli: cli,
		timeout: c.PullTimeout, stall: stall, progress: c.Progress, logf: func(string, ...any) {}}
	return pl.ensureImages(ctx, c.PostgresImage, c.RedisImage)
}

// autoFallback returns the line saying that "auto" skips the docker
// provider and falls back to local, and why; or "" when that is not what
// happens.
func autoFallback(provider string, cfg *Config, sts []providerStatus) string {
	if provider != ProviderAuto || cfg.PostgresURL != "" || cfg.RedisURL != "" {
		return ""
	}
	var dockerWhy, dockerHint, localWhy string
	for _, st := range sts {
		switch st.name {
		case ProviderDocker:
			dockerWhy, dockerHint = st.why, st.hint
		case ProviderLocal:
			localWhy = st.why
		}
	}
	switch {
	case dockerWhy == "":
		return ""
	case localWhy == "" && dockerHint != "":
		return fmt.Sprintf("auto: falls back to local, because the docker provider is unavailable: %s\n  to use containers: %s", dockerWhy, dockerHint)
	case localWhy == "":
		return fmt.Sprintf("auto: falls back to local, because the docker provider is unavailable: %s", dockerWhy)
	}
	return fmt.Sprintf("auto: cannot fall back to local either (%s), and the docker provider is unavailable: %s", localWhy, dockerWhy)
}
