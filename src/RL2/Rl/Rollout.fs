/// Meta-episodes collected in batched lockstep: one policy and one value forward per timestep for
/// all B meta-episodes, no gradient.
module RL2.Rl.Rollout

open TorchSharp
open RL2
open RL2.Envs
open RL2.Nn

/// B meta-episodes of T steps. Immutable once collected.
type Rollout =
    { Observations: Tensor // [B; T; O] float32
      Actions: Tensor // [B; T] int64
      Rewards: Tensor // [B; T] float32
      Dones: Tensor // [B; T] float32
      LogProbs: Tensor // [B; T] log π_old(a_t)
      Values: Tensor } // [B; T] V_old(x_t)

/// x shifted right by one step along T with `first` at t = 0: [B; T] → [B; T].
let shiftRight (first: Tensor) (x: Tensor) =
    scoped (fun () ->
        let head = first.expand(x.shape[0], 1L).to_type x.dtype
        torch.cat([| head; x.narrow(1L, 0L, x.shape[1] - 1L) |], 1L))

/// The agent inputs of every step, rebuilt from stored observations and the previous step's
/// action, reward and done, with (0, 0.0, 1.0) at t = 0 (SPEC §5): [B; T; I].
let inputs (dist: TaskDistribution) (r: Rollout) =
    scoped (fun () ->
        let zero, one = torch.zeros(1L, 1L), torch.ones(1L, 1L)
        TaskDistribution.encode dist r.Observations (shiftRight zero r.Actions) (shiftRight zero r.Rewards) (shiftRight one r.Dones))

/// Sample one action per row from logits [B; A]: the action [B] and its log-probability [B].
let sampleAction (gen: Generator) (logits: Tensor) =
    use logp = logits.log_softmax -1L
    use p = logp.exp()
    use a = p.multinomial(1L, true, gen)
    use lp = logp.gather(1L, a)
    a.squeeze -1L, lp.squeeze -1L

/// Plays `count` fresh tasks for `steps` steps with the policy, recording the value estimates; with
/// `concurrent`, the value network steps on a second thread while the policy acts (same result).
let collectWith (concurrent: bool) (gen: Generator) (dist: TaskDistribution) (policy: Layer) (value: Layer) (count: int) (steps: int) =
    use _ = torch.no_grad ()
    // Frees the tasks, states and everything else but the rollout's own tensors.
    use outer = torch.NewDisposeScope()
    let tasks = dist.Sample gen count
    let record = Array.init 6 (fun _ -> ResizeArray<Tensor>(steps))
    let mutable state = tasks.Reset gen
    let mutable pState = policy.Initial count
    let mutable vState = value.Initial count
    let mutable prevAction = torch.zeros([| int64 count |], dtype = ScalarType.Int64)
    let mutable prevReward = torch.zeros([| int64 count |])
    let mutable prevDone = torch.ones([| int64 count |])
    // The weights stay fixed for the whole rollout, so whatever depends only on them is made once.
    let policyStep, valueStep = policy.Stepper (), value.Stepper ()
    use collections = new Memory.CollectionHold(concurrent)
    for t in 0 .. steps - 1 do
        collections.Renew()
        use scope = torch.NewDisposeScope()
        let obs = dist.Observe state
        use x = TaskDistribution.encode dist obs prevAction prevReward prevDone
        let (logits, pNext), (v, vNext) =
            if concurrent then
                concurrentlyInto scope (fun (v, vNext) -> v :: vNext) (fun () -> policyStep x pState) (fun () -> valueStep x vState)
            else
                policyStep x pState, valueStep x vState
        let action, logp = sampleAction gen logits
        let reward, next = tasks.Step gen state action
        let isDone = TaskDistribution.isDone dist t
        let doneT = if isDone then torch.ones([| int64 count |]) else torch.zeros([| int64 count |])
        let nextState = if isDone then tasks.Reset gen else next
        let value1 = v.squeeze -1L
        for i, y in Array.indexed [| obs; action; reward; doneT; logp; value1 |] do
            record[i].Add y
        scope.MoveToOuter(Seq.cast<System.IDisposable> <| Seq.concat [ [ obs; action; reward; doneT; logp; value1; nextState ]; pNext; vNext ])
        |> ignore
        for old in Seq.concat [ [ state ]; pState; vState ] do old.Dispose()
        state <- nextState
        pState <- pNext
        vState <- vNext
        prevAction <- action
        prevReward <- reward
        prevDone <- doneT
    let stack (ts: ResizeArray<Tensor>) = outer.MoveToOuter(torch.stack(ts, 1L))
    { Observations = stack record[0]
      Actions = stack record[1]
      Rewards = stack record[2]
      Dones = stack record[3]
      LogProbs = stack record[4]
      Values = stack record[5] }

/// `collectWith` on one thread.
let collect gen dist policy value count steps = collectWith false gen dist policy value count steps

/// Select meta-episodes (rows) by index [M] int64.
let select (index: Tensor) (r: Rollout) =
    { Observations = r.Observations.index_select(0L, index)
      Actions = r.Actions.index_select(0L, index)
      Rewards = r.Rewards.index_select(0L, index)
      Dones = r.Dones.index_select(0L, index)
      LogProbs = r.LogProbs.index_select(0L, index)
      Values = r.Values.index_select(0L, index) }

let dispose (r: Rollout) =
    for t in [ r.Observations; r.Actions; r.Rewards; r.Dones; r.LogProbs; r.Values ] do
        t.Dispose()

/// Mean undiscounted meta-episode return of a uniformly random player on `count` fresh tasks.
let randomPlayerReturn (gen: Generator) (dist: TaskDistribution) (count: int) (steps: int) =
    let policy, value = Agent.uniform (TaskDistribution.inputWidth dist) dist.NumActions
    let r = collect gen dist policy value count steps
    use mean = scoped (fun () -> r.Rewards.sum(1L).mean())
    dispose r
    float (mean.item<float32> ())
