/// Bernoulli bandits (SPEC §2): arm means p_i ~ U[0,1]; each pull is an episode of length 1.
module RL2.Envs.Bandit

open TorchSharp
open RL2

/// Task parameters: arm success probabilities, [B; k].
type Tasks = { ArmProbabilities: Tensor }

let sampleTasks (gen: Generator) (numArms: int) (count: int) =
    { ArmProbabilities = torch.rand([| int64 count; int64 numArms |], generator = gen) }

/// Pull arm a of every task: reward ~ Bernoulli(p_a).
let pull (gen: Generator) (tasks: Tasks) (action: Tensor) =
    use idx = action.unsqueeze -1L
    use pa = tasks.ArmProbabilities.gather(1L, idx).squeeze -1L
    use u = torch.rand(pa.shape, generator = gen)
    use hit = u.lt pa
    hit.to_type ScalarType.Float32

let batch (tasks: Tasks) : TaskBatch =
    let count = int tasks.ArmProbabilities.shape[0]
    { Size = count
      Reset = fun _ -> torch.zeros([| int64 count |], dtype = ScalarType.Int64)
      Step = fun gen state action -> pull gen tasks action, state.clone () }

let distribution (numArms: int) : TaskDistribution =
    { Name = "bandit"
      NumActions = numArms
      ObservationWidth = 0
      EpisodeLength = 1
      Observe = fun s -> torch.zeros(Array.append s.shape [| 0L |], dtype = ScalarType.Float32)
      Sample = fun gen count -> batch (sampleTasks gen numArms count) }
