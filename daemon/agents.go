package daemon

import (
	"pacer/agents"
	"pacer/resources"
)

// defaultAgents is the agent registry pacerd runs with.
func defaultAgents(cfg *Config) resources.Resolver {
	return agents.NewRegistry(agents.RegistryConfig{})
}
