/// Policy and value networks: memory core → linear head (SPEC §3). No shared parameters.
module RL2.Nn.Agent

open TorchSharp
open RL2

let private named name (core: Layer) (head: Layer) =
    let ps = new ParamStore(name)
    ps.Child core.Params
    ps.Child head.Params
    { (core --> head) with Params = ps }

/// Policy network: features → logits over actions, [..; A].
let policy (gen: Generator) (arch: Architecture) (spec: ArchitectureSpec) (numActions: int) =
    let core = arch.Build gen spec
    named "policy_net" core (Layer.linear gen "policy_head" true core.OutputWidth numActions)

/// Value network: features → state value, [..; 1].
let value (gen: Generator) (arch: Architecture) (spec: ArchitectureSpec) =
    let core = arch.Build gen spec
    named "value_net" core (Layer.linear gen "value_head" true core.OutputWidth 1)
