/// A policy as a value, batched over B meta-episodes played in lockstep: an initial belief for B
/// tasks, actions from a belief, and the belief after a step's feedback. Beliefs are whole-batch
/// arrays (counts as [B; k] or [B; S; A] laid out flat), never one object per meta-episode.
/// A belief belongs to one evaluation run: `Update` may change its arrays in place and return it.
namespace RL2.Baselines

/// What a policy sees before acting at step `Step` (0-based) of the meta-episode.
type Observation =
    { /// Current state of every task, [B] (always 0 for bandits).
      States: int[]
      Step: int
      MetaEpisodeLength: int
      /// Step within the current episode (0-based) and the episode length.
      EpisodeStep: int
      EpisodeLength: int }

    /// Steps left in the current episode, this one included.
    member o.Remaining = o.EpisodeLength - o.EpisodeStep

/// What happened at step `Step` of every task.
type Feedback =
    { States: int[]
      Actions: int[]
      Rewards: float[]
      /// The state each transition led to, before the reset that follows a done.
      NextStates: int[]
      /// Whether the step ended an episode (the same for the whole batch: episodes have a fixed length).
      Done: bool
      Step: int }

/// `'Belief` is whatever the policy carries between steps. Randomness comes only from the `Rng`
/// passed in, so a seed fixes every choice.
type Policy<'Belief> =
    { Name: string
      /// Belief before the first step of B fresh tasks.
      Init: Rng -> int -> 'Belief
      Act: Rng -> 'Belief -> Observation -> int[]
      Update: Rng -> 'Belief -> Feedback -> 'Belief }

module Policy =
    /// The same policy with its belief type hidden, so policies of different kinds fit in one list.
    let erase (p: Policy<'B>) : Policy<obj> =
        { Name = p.Name
          Init = fun rng n -> box (p.Init rng n)
          Act = fun rng b o -> p.Act rng (unbox<'B> b) o
          Update = fun rng b f -> box (p.Update rng (unbox<'B> b) f) }

    let rename name (p: Policy<'B>) = { p with Name = name }

    /// Index of the largest of values[offset .. offset+n-1], ties broken uniformly at random
    /// (the generator is drawn from only when there is a tie).
    let argmax (rng: Rng) (values: float[]) (offset: int) (n: int) =
        let mutable best = offset
        let mutable ties = 1
        for i in offset + 1 .. offset + n - 1 do
            let v = values[i]
            if v > values[best] then
                best <- i
                ties <- 1
            elif v = values[best] then
                ties <- ties + 1
                if rng.Int ties = 0 then best <- i
        best - offset

    /// Uniformly random actions.
    let random (numActions: int) : Policy<unit> =
        { Name = "Random"
          Init = fun _ _ -> ()
          Act = fun rng () o -> Array.init o.States.Length (fun _ -> rng.Int numActions)
          Update = fun _ () _ -> () }
