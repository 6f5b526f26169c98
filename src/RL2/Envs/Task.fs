/// The one abstraction every task distribution implements: B tasks stepped together on tensors.
namespace RL2.Envs

open TorchSharp
open RL2

/// B tasks drawn from a distribution. A value: stepping returns new state instead of mutating it.
type TaskBatch =
    { Size: int
      /// Start-of-episode states: [B] int64.
      Reset: Generator -> Tensor
      /// One step of every task: state [B], action [B] int64 → reward [B] float32, next state [B].
      /// The reward belongs to the state before the transition.
      Step: Generator -> Tensor -> Tensor -> Tensor * Tensor }

/// A distribution over tasks sharing action and observation spaces.
type TaskDistribution =
    { Name: string
      NumActions: int
      /// Width of the observation features the agent sees (0 when the observation carries nothing).
      ObservationWidth: int
      /// Steps per episode; episodes auto-reset inside a meta-episode.
      EpisodeLength: int
      /// Observation features of states: [..] int64 → [..; ObservationWidth] float32.
      Observe: Tensor -> Tensor
      Sample: Generator -> int -> TaskBatch }

module TaskDistribution =
    /// Agent input width: observation ++ onehot(previous action) ++ previous reward ++ previous done.
    let inputWidth (d: TaskDistribution) = d.ObservationWidth + d.NumActions + 2

    /// Agent input (SPEC §1) for any leading dims: obs [..; O], previous action [..] int64,
    /// previous reward [..], previous done [..] → [..; O + A + 2].
    let encode (d: TaskDistribution) (obs: Tensor) (prevAction: Tensor) (prevReward: Tensor) (prevDone: Tensor) =
        use oneHot = torch.nn.functional.one_hot(prevAction, int64 d.NumActions)
        use a = oneHot.to_type ScalarType.Float32
        use r = prevReward.unsqueeze -1L
        use dn = prevDone.unsqueeze -1L
        torch.cat([| obs; a; r; dn |], -1L)

    /// Whether step t (0-based, within the meta-episode) ends an episode.
    let isDone (d: TaskDistribution) (t: int) = (t + 1) % d.EpisodeLength = 0
