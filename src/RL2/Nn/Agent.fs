/// Policy and value networks: memory core → linear head (SPEC §3). No shared parameters.
module RL2.Nn.Agent

open TorchSharp
open RL2

/// Policy network: features → logits over actions, [..; A].
let policy (gen: Generator) (arch: Architecture) (spec: ArchitectureSpec) (numActions: int) =
    let core = arch.Build gen spec
    Layer.sequence "policy_net" [ core; Layer.linear gen "policy_head" true core.OutputWidth numActions ]

/// Value network: features → state value, [..; 1].
let value (gen: Generator) (arch: Architecture) (spec: ArchitectureSpec) =
    let core = arch.Build gen spec
    Layer.sequence "value_net" [ core; Layer.linear gen "value_head" true core.OutputWidth 1 ]

/// The uniformly random policy as a network (all-zero logits) and a zero value: the chance level.
let uniform (inWidth: int) (numActions: int) =
    let zeros width (x: Tensor) = torch.zeros(Array.append x.shape[.. x.shape.Length - 2] [| int64 width |])
    Layer.fn "uniform_policy" inWidth numActions (zeros numActions), Layer.fn "zero_value" inWidth 1 (zeros 1)
