/// The recipes of `rl2 reproduce`: one per published RL² number, each the exact `rl2 train` flags
/// (seed and evaluation cadence included) and the goal its peak must reach.
module RL2.Cli.Recipes

open RL2.Eval.Published
open RL2.Eval.Reproduction
open RL2.Cli.Args

/// The paper's iterations are 240 000 steps over 8 processes at learning rate 2e-4; on 2 vCPUs such an
/// iteration takes one to several minutes, so every recipe takes 10 to 20 times smaller iterations at a
/// 5 times larger learning rate: many more updates per hour for the same steps (measured below on this
/// machine, shared with other work, 1 torch thread).
let private smallerIterations (steps: string) =
    $"{steps} steps per iteration (paper 240 000), learning rate 1e-3 (paper 2e-4)"

/// The smaller iterations with standardised advantages, the option that kept them from committing early.
let private standardisedSmallerIterations (steps: string) =
    smallerIterations steps + "; advantages standardised (SPEC's option, off in the published runs)"

/// The value net regressed on the λ-return rather than on V + standardised A (`--value_targets`).
let private lambdaReturnTargets = "; value targets the λ-return before standardisation (SPEC: V + standardised A)"

/// An entropy bonus other than SPEC's 0.01 (`--ppo_ent_coef`).
let private largerEntropyBonus (coef: string) = $"; entropy bonus {coef} (SPEC 0.01)"

/// GAE's λ raised from SPEC's 0.3 (`--gae_lambda`).
let private longerCreditHorizon = "; GAE λ 0.95 (SPEC 0.3)"

/// No discount (`--discount_gamma 1`): the score is the undiscounted meta-episode return.
let private undiscounted = "; discount γ 1 (SPEC 0.99)"

/// The batch-480 SNAIL recipes' iterations on 10-pull bandits, beside the papers'.
let private snailBatch480 =
    "24 000 steps per iteration (paper 240 000); the papers' SNAIL of 32 features, learning rate 2e-4 and effective minibatch of 480 meta-episodes"

/// The iterations of a 12 000-step recipe grown `factor` times from `iteration` on (`timesTheMetaEpisodes factor`).
let private largerIterationsFrom (iteration: int) (factor: int) = $"12 000 to iteration {iteration}, then {12 * factor} 000"

/// The minibatch grown `factor` times where a run went on with `timesTheMetaEpisodes factor`.
let private largerMinibatches (factor: int) = $"; minibatches of 60 meta-episodes, then {60 * factor} (paper 480)"

/// The learning rate annealed over a run's last iterations (`--adam_lr_anneal_from`).
let private annealed (from: int) (last: int) =
    $"; learning rate annealed linearly after iteration {from} to 1/{last - from} of it at {last} (constant in the papers)"

/// The flags bandit-n100-k5-gru-standardized and its variants share; each adds the one change it tests, its length,
/// evaluation cadence and seed.
let private standardisedBandit100 = "--meta_episode_len 100 --num_features 256 --adam_lr 1e-3 --meta_episodes_per_policy_update 120 --standardize_advs 1"

/// The flags mdp-n10-gru-standardized and its annealed continuation share.
let private standardisedGruMdp = "--environment tabular_mdp --meta_episode_len 100 --num_features 256 --adam_lr 1e-3 --meta_episodes_per_policy_update 120 --standardize_advs 1"

/// The flags mdp-n10-snail and the runs that continue or vary it share.
let private snailMdp = "--environment tabular_mdp --architecture snail --num_features 32 --meta_episode_len 100 --adam_lr 1e-3 --meta_episodes_per_policy_update 120"

/// `factor` times the meta-episodes per iteration and per minibatch of the 120-episode recipes: the same
/// Adam steps per iteration on gradients of 1/`factor` the variance.
let private timesTheMetaEpisodes (factor: int) (flags: string) =
    let batch120 = "--meta_episodes_per_policy_update 120"
    if not (flags.Contains batch120) then
        invalidArg (nameof flags) $"'{batch120}' is not among the flags to scale: {flags}"
    flags.Replace(batch120, $"--meta_episodes_per_policy_update {120 * factor} --meta_episodes_per_learner_batch {60 * factor}")

/// A recipe going on from `recipe`'s run at `iteration`, whose snapshot `commit` carried.
let private continuing (recipe: string) (iteration: int) (commit: string) =
    Some { From = recipe; Iteration = iteration; Commit = commit }

/// mdp-n10-gru-standardized's last committed snapshot, where its anneals start.
let private fromStandardisedGruMdp = continuing "mdp-n10-gru-standardized" 5567 "a6a545100f9b8e8a965fb56a89161757d130a19c"

/// mdp-n10-gru-standardized-annealed-later's snapshot before its anneal, where the larger-iteration anneals start.
let private laterGruMdpSnapshot = 9420

let private fromLaterGruMdp =
    continuing "mdp-n10-gru-standardized-annealed-later" laterGruMdpSnapshot "3456b2bd9615fd83647c33158ff6a28277d96080"

/// mdp-n10-snail-extended's last snapshot, where the SNAIL's anneals start.
let private fromExtendedSnailMdp = continuing "mdp-n10-snail-extended" 2000 "69f4683b93cb616c4abbeb0509fd448b6c0fedcc"

/// An MDP GRU recipe going on from mdp-n10-gru-standardized-annealed-later's snapshot on `factor` times the
/// meta-episodes per iteration, its rate annealed from iteration `from` to `last`: flags and deviations from one set
/// of numbers.
let private largerGruMdpAnneal name title (factor: int) (from: int) (last: int) why =
    { Name = name
      Title = title
      Setup = MdpSetup 10
      Flags =
        timesTheMetaEpisodes factor standardisedGruMdp
        + $" --max_pol_iters {last} --adam_lr_anneal_from {from} --eval_every 20 --seed 0"
      Agent = "GRU"
      StartsFrom = fromLaterGruMdp
      Goal = AtLeast 157.3
      Deviations =
        standardisedSmallerIterations (largerIterationsFrom laterGruMdpSnapshot factor)
        + largerMinibatches factor
        + annealed from last
      Why = why }

/// The papers' 6.7 and 6.8 on n = 10, k = 5 are within their own ±0.14 sampling noise of the exact
/// Bayes-optimal 6.660, which no policy exceeds in expectation.
let private ceiling = Near(6.660, 0.05)

let table: Recipe list =
    [ { Name = "bandit-n10-k5-gru"
        Title = "GRU on 10-pull, 5-arm Bernoulli bandits"
        Setup = BanditSetup(10, 5)
        Flags = "--meta_episode_len 10 --num_features 256 --adam_lr 2e-4 --meta_episodes_per_policy_update 600 --max_pol_iters 400 --eval_every 10 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = ceiling
        Deviations = "6 000 steps per iteration (paper 240 000); the paper's GRU of 256 features and learning rate 2e-4"
        Why =
          "The reference at these settings (one process, same machine) reached a training return of 6.5 after about 117 "
          + "iterations and 6.6 after about 184; at about 3 s per iteration here that is minutes. In 4-minute trials a GRU of 128 "
          + "features at learning rate 1e-3 rose faster but levelled off near 6.5. The goal is the Bayes-optimal 6.660: the "
          + "papers' 6.7 is within its own sampling noise of that ceiling." }
      { Name = "bandit-n10-k5-gru-batch480"
        Title = "GRU on 10-pull, 5-arm Bernoulli bandits, with the paper's effective minibatch"
        Setup = BanditSetup(10, 5)
        Flags = "--meta_episode_len 10 --num_features 256 --adam_lr 2e-4 --meta_episodes_per_policy_update 4800 --meta_episodes_per_learner_batch 480 --max_pol_iters 600 --eval_every 10 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = ceiling
        Deviations = "48 000 steps per iteration (paper 240 000); the paper's GRU of 256 features, learning rate 2e-4 and effective minibatch of 480 meta-episodes"
        Why =
          "The paper averages each gradient over 8 processes of 60 meta-episodes: 480 per step, which one process gets with "
          + "--meta_episodes_per_learner_batch 480. bandit-n10-k5-gru steps on 60, and its training return swung between 6.3 "
          + "and 6.6 from iteration to iteration after its rise; this recipe tests whether the larger minibatch closes its gap. "
          + "An iteration takes about 9 s here, a fifth of the paper's data for the same 80 gradient steps." }
      { Name = "bandit-n100-k5-gru"
        Title = "GRU on 100-pull, 5-arm Bernoulli bandits"
        Setup = BanditSetup(100, 5)
        Flags = "--meta_episode_len 100 --num_features 256 --adam_lr 1e-3 --meta_episodes_per_policy_update 240 --max_pol_iters 1000 --eval_every 10 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 78.7
        Deviations = smallerIterations "24 000"
        Why =
          "An iteration of 24 000 steps took 6-12 s here (GRU 128-256); the paper's width is kept for the 100-step memory. "
          + "The result must also not fall below the strongest classic baseline (Gittins) on the same tasks."
          + " What would close the gap is open. Two probes of 120 iterations with these flags and seed (2026-12-02; the "
          + "recipe peaked at iteration 190) ruled out two causes. With the reference's --forget_bias at 3.0 instead of "
          + "1.0, so that the GRU keeps more of its state per step from the start, the best checkpoint (iteration 110) "
          + "scored 74.31 ± 0.38 on the fresh tasks against 74.62 ± 0.36 at 1.0 (iteration 60), Gittins −4.24 and −3.93, "
          + "and its entropy fell faster (0.05 against 0.13 at iteration 60). Played greedily, the 1.0 checkpoint scored "
          + "73.37, so sampling is not what costs it. Of its 3.9 below Gittins, 0.2 is lost in the first 10 pulls and 3.7 "
          + "after: its reward per pull levels off near 0.77 from pull 70 where Gittins' reaches 0.81, so it loses by "
          + "settling on worse arms." }
      { Name = "bandit-n100-k5-gru-batch480"
        Title = "GRU on 100-pull, 5-arm Bernoulli bandits, with the paper's effective minibatch"
        Setup = BanditSetup(100, 5)
        Flags = "--meta_episode_len 100 --num_features 256 --adam_lr 2e-4 --meta_episodes_per_policy_update 960 --meta_episodes_per_learner_batch 480 --max_pol_iters 159 --eval_every 10 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 78.7
        Deviations = "96 000 steps per iteration (paper 240 000); the paper's GRU of 256 features, learning rate 2e-4 and effective minibatch of 480 meta-episodes"
        Why =
          "bandit-n10-k5-gru-batch480 closed most of the 10-pull gap with the paper's minibatch of 480; this recipe takes the same "
          + "step on 100 pulls, where minibatches of 60 stayed 2.1 below Gittins. Two minibatches per iteration (16 gradient "
          + "steps) took about 27 s here, rollout included, so the paper's 2 400 meta-episodes per iteration would take over a "
          + "minute and the held-out evaluation every 10 iterations 11 minutes apart; the gradient steps per hour are the same "
          + "either way. Planned for 1 000 iterations, it was stopped at 159: its held-out return had been level at about 73 "
          + "since iteration 100, below bandit-n100-k5-gru's 75.9 after as many gradient steps (iteration 80) and 76.4 after "
          + "a third of the steps, so the remaining hours went to mdp-n10-gru-batch480." }
      { Name = "bandit-n100-k5-gru-standardized"
        Title = "GRU on 100-pull, 5-arm Bernoulli bandits, with standardised advantages"
        Setup = BanditSetup(100, 5)
        Flags = standardisedBandit100 + " --max_pol_iters 2000 --eval_every 20 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 78.7
        Deviations = standardisedSmallerIterations "12 000"
        Why =
          "mdp-n10-gru-standardized's flags on 100-pull bandits. bandit-n100-k5-gru loses to Gittins by settling on worse "
          + "arms, its entropy down to 0.13 by iteration 60; on MDPs, where the GRU committed as early, standardised "
          + "advantages held the entropy at 0.5-0.7 and took 120-episode iterations from 124 to 147. On bandits they did "
          + "not: the entropy was 0.13 by iteration 52 as well and stayed at 0.13-0.29, and the held-out return stayed "
          + "within 76.4-77.7 from iteration 120 to 2000 (best 77.75 at 960, where Gittins scores 79.20 on that set)." }
      { Name = "bandit-n100-k5-gru-standardized-seed1"
        Title = "GRU on 100-pull, 5-arm Bernoulli bandits, with standardised advantages, seed 1"
        Setup = BanditSetup(100, 5)
        Flags = standardisedBandit100 + " --max_pol_iters 600 --eval_every 20 --seed 1"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 78.7
        Deviations = standardisedSmallerIterations "12 000"
        Why =
          "bandit-n100-k5-gru-standardized's flags with seed 1 instead of 0, planned for 400 iterations, as that run's "
          + "held-out return was level from iteration 120 on, and raised to 600 when this one was still rising at 400. Five remedies (batch 480, annealing, λ-return targets, a larger entropy bonus, "
          + "GAE λ 0.95) all stopped 2-3 below Gittins from seed 0; this tests whether that plateau belongs to the seed. "
          + "Seed 1 sits a little higher but on the same plateau: held-out 77.1-77.6 over iterations 100-260 and 77.4-78.3 "
          + "from 280 to 600 (seed 0: 76.4-77.7). At 400, then its final checkpoint, it scored 77.07 ± 0.33 on the fresh "
          + "tasks, 1.48 ± 0.14 below Gittins, the closest any 100-pull GRU came; resumed at 400 it reached its best "
          + "held-out 78.27 at 580, which scored 76.89 ± 0.33 on the fresh tasks (final 76.44 ± 0.34), 1.66 ± 0.14 below "
          + "Gittins: the held-out set is 0.65 easier (Gittins 79.20 there) and the best of 30 evaluations on it adds about "
          + "0.7 of luck. 0.34 hours in all." }
      { Name = "bandit-n100-k5-gru-lambda-return"
        Title = "GRU on 100-pull, 5-arm Bernoulli bandits, standardised advantages, value net regressed on the λ-return"
        Setup = BanditSetup(100, 5)
        Flags = standardisedBandit100 + " --value_targets lambda_return --max_pol_iters 600 --eval_every 20 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 78.7
        Deviations = standardisedSmallerIterations "12 000" + lambdaReturnTargets
        Why =
          "bandit-n100-k5-gru-standardized's flags with one change. With standardised advantages SPEC resets the value "
          + "targets to V + standardised A, so the value net moves by the advantages' unit scale instead of following the "
          + "returns: that run's raw advantage mean went from +0.9 to -4.8 over its 2 000 iterations. GAE at λ 0.3 looks "
          + "little further than the next step's value, which is where what a pull reveals about the arms is credited; "
          + "with that value off the returns, the hypothesis is, the policy learns mostly from near-immediate rewards, "
          + "which favours exploiting early. Here the value net regresses on the λ-return (V + A before "
          + "standardisation) while the policy still gets the standardised advantages. The hypothesis failed: the raw "
          + "advantage mean stayed near -0.1, the value net on the returns, but the entropy fell faster (0.04 by iteration "
          + "80, where the reference's targets kept 0.24) and the held-out return dropped to 68-71 over iterations 60-240 "
          + "before it recovered to 75.4 at 560-600, where bandit-n100-k5-gru-standardized held 76.8-77.6. Planned for 2 000 "
          + "iterations, it was cut to 300 at iteration 207 and, as it was still rising, raised to 600 (resumed at 207 and "
          + "300; 0.4 hours): on the fresh tasks 74.35 ± 0.37 (peak, iteration 560) and 74.38 ± 0.37 (final), 4.2 ± 0.2 "
          + "below Gittins and below Greedy (75.95). The reference's targets are the better of the two here." }
      { Name = "bandit-n100-k5-gru-entropy"
        Title = "GRU on 100-pull, 5-arm Bernoulli bandits, standardised advantages, five times the entropy bonus"
        Setup = BanditSetup(100, 5)
        Flags = standardisedBandit100 + " --ppo_ent_coef 0.05 --max_pol_iters 600 --eval_every 20 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 78.7
        Deviations = standardisedSmallerIterations "12 000" + largerEntropyBonus "0.05"
        Why =
          "bandit-n100-k5-gru-standardized's flags with an entropy bonus of 0.05 instead of SPEC's 0.01. Every remedy "
          + "tried on the 100-pull GRU (standardised advantages, batch 480, annealing, λ-return targets) left its entropy "
          + "near 0.15 by iteration 40-60, after which the held-out return stays 1.5-2 below Gittins: the policy commits to "
          + "a way of exploring before it has learnt a good one. A five times larger bonus tests whether keeping the "
          + "policy stochastic through that early phase lets it find a better one. It does not: from "
          + "iteration 40 the entropy stayed at 0.38-0.54 (bandit-n100-k5-gru-standardized: 0.13-0.29), yet the held-out return rose as that run's did, to 77.0 "
          + "by iteration 100, stayed within 76.5-77.3 to 360 (best 77.29 at 260) and drifted down to 75.4-76.2 over "
          + "480-600, the bonus's randomness costing more than it taught. On the fresh tasks (600 iterations, 0.4 hours) the "
          + "peak scored 76.14 ± 0.33 and the final checkpoint 75.05 ± 0.33, 2.41 ± 0.13 and 3.50 ± 0.13 below Gittins: "
          + "the early loss of entropy is a symptom, not the cause." }
      { Name = "bandit-n100-k5-gru-lambda95"
        Title = "GRU on 100-pull, 5-arm Bernoulli bandits, standardised advantages, GAE's λ at 0.95"
        Setup = BanditSetup(100, 5)
        Flags = standardisedBandit100 + " --gae_lambda 0.95 --max_pol_iters 300 --eval_every 20 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 78.7
        Deviations = standardisedSmallerIterations "12 000" + longerCreditHorizon
        Why =
          "bandit-n100-k5-gru-standardized's flags with GAE's λ at 0.95 instead of SPEC's 0.3. A pull that explores pays "
          + "off over the pulls after it, up to 99 steps later; at λ 0.3 that payoff reaches the pull only through the value "
          + "net's estimate of the next step, at 0.95 the λ-return carries most of it directly. bandit-n100-k5-gru-entropy "
          + "showed that keeping the policy stochastic does not by itself find a better way to explore; this tests whether "
          + "crediting exploration more directly does. 300 iterations: bandit-n100-k5-gru-standardized had reached its "
          + "plateau by 120. It does not: the start was slower (held-out 67.3 at iteration 20 and 72.8 at 40, against 74.3 "
          + "and 76.0), the entropy stayed higher (0.31-0.56 after iteration 40), and the return levelled at 76.1-76.9 from "
          + "iteration 80 (best 76.88 at 140), no higher than at λ 0.3. On the fresh tasks (0.18 hours) the peak scored "
          + "75.76 ± 0.34 and the final checkpoint 75.14 ± 0.34, 2.79 ± 0.15 and 3.40 ± 0.15 below Gittins." }
      { Name = "bandit-n100-k5-gru-gamma1"
        Title = "GRU on 100-pull, 5-arm Bernoulli bandits, standardised advantages, undiscounted"
        Setup = BanditSetup(100, 5)
        Flags = standardisedBandit100 + " --discount_gamma 1 --max_pol_iters 300 --eval_every 20 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 78.7
        Deviations = standardisedSmallerIterations "12 000" + undiscounted
        Why =
          "bandit-n100-k5-gru-standardized's flags with no discount. The goal scores the undiscounted return of 100 "
          + "pulls, but training discounts it by 0.99 a pull, so the reward 50 pulls after a pull that explores counts "
          + "0.6 to it: the GRU's losses to Gittins (a second pull that ignores the first outcome, settling on a worse "
          + "arm more often) are exploration that pays off late. γ 1 credits that payoff in full. It did not help: the "
          + "held-out return rose as bandit-n100-k5-gru-standardized's did (74.4 at iteration 20, 77.2 at 100) and stayed "
          + "at 76.6-77.2 to 300, the entropy at 0.18-0.24; on the fresh tasks the peak (iteration 100) scored 76.30 ± 0.34 "
          + "and the final checkpoint 75.81 ± 0.33, 2.25 ± 0.16 and 2.74 ± 0.15 below Gittins, on the γ 0.99 plateau "
          + "(76.63 and 77.07 on seeds 0 and 1). Per pull, on 2 000 of those tasks, its second pull still ignores the "
          + "first outcome (mean reward 0.505, Gittins 0.592) and it loses 0.6 to Gittins over the first 20 pulls and 1.4 "
          + "over the last 80, as the discounted GRU does: the discount's horizon is not what keeps it below Gittins. "
          + "Papers' measure 77.56 at iteration 142; 0.45 hours." }
      { Name = "bandit-n100-k5-gru-annealed"
        Title = "GRU on 100-pull, 5-arm Bernoulli bandits, standardised advantages, learning rate annealed after its plateau"
        Setup = BanditSetup(100, 5)
        Flags = standardisedBandit100 + " --max_pol_iters 2500 --adam_lr_anneal_from 2000 --eval_every 20 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 78.7
        Deviations = standardisedSmallerIterations "12 000" + annealed 2000 2500
        Why =
          "bandit-n100-k5-gru-standardized's flags and seed, then 500 iterations of falling learning rate: its held-out return "
          + "was flat at 76.4-77.7 from iteration 120 to 2000, so more steps at 1e-3 bought nothing, and smaller steps test "
          + "whether the noise of 120-episode updates at 1e-3 is what holds it below Gittins. It starts from that run's "
          + "checkpoint of iteration 2000 (its best so far carried too). "
          + "It did not: over the 500 annealed iterations (19 minutes) the held-out return stayed within 76.4-77.2, drifting "
          + "down as the entropy fell from 0.20 to 0.14, and the final checkpoint scored 75.59 ± 0.32 on the fresh tasks, "
          + "2.95 ± 0.13 below Gittins, level with the unannealed final (75.48); the peak stays the inherited iteration 960. "
          + "Unlike mdp-n10-snail's, this plateau is not the noise of large steps: the policy has settled on a worse way to "
          + "explore." }
      { Name = "mdp-n10-gru"
        Title = "GRU on 10 episodes of random tabular MDPs (10 states, 5 actions, 10 steps)"
        Setup = MdpSetup 10
        Flags = "--environment tabular_mdp --meta_episode_len 100 --num_features 256 --adam_lr 1e-3 --meta_episodes_per_policy_update 240 --max_pol_iters 1000 --eval_every 10 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 157.3
        Deviations = smallerIterations "24 000"
        Why =
          "An iteration of 24 000 steps took 5-11 s here (GRU 128-256). RL² learns MDPs slowly: the README's GRU-128 run at this "
          + "size reached 110.5 after 150 iterations from the random player's 100; the run resumes if --max_pol_iters is raised." }
      { Name = "mdp-n10-gru-batch480"
        Title = "GRU on 10 episodes of random tabular MDPs, with the paper's iterations"
        Setup = MdpSetup 10
        Flags = "--environment tabular_mdp --meta_episode_len 100 --num_features 256 --adam_lr 2e-4 --meta_episodes_per_policy_update 2400 --meta_episodes_per_learner_batch 480 --max_pol_iters 100 --eval_every 5 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 157.3
        Deviations = "none but the number of iterations: the paper's 240 000 steps per iteration, GRU of 256 features, learning rate 2e-4 and effective minibatch of 480 meta-episodes"
        Why =
          "mdp-n10-gru's policy entropy fell from 1.6 to 0.29 within its first 50 iterations (240 tasks each) while its return "
          + "was 107, then crept to 123.5 over 950 more: few tasks per iteration and a large learning rate let the policy commit "
          + "before it had learned to explore. PPO's clipping bounds how far each iteration moves the policy, so this recipe "
          + "gives every iteration the paper's 2 400 tasks and 40 gradient steps on 480 of them, at about 40 s per iteration "
          + "here (69 s before the learner's passes were cut to 60 meta-episodes, from iteration 15 on). It did not: paused "
          + "after 91 iterations (21.8 M steps, 1.3 hours), its held-out return had been level at about 109 since iteration 20 "
          + "(best 110.4 at 30) while the entropy fell iteration by iteration as in mdp-n10-gru (0.83 against 0.81 at iteration "
          + "20, 0.45 against 0.42 at 40, 0.13 against 0.20 at 80), and mdp-n10-gru had the same return at iteration 80 on a "
          + "tenth of the steps. Its checkpoints were lost with the machine it ran on. Restarted from iteration 0 (same seed, "
          + "41 s per iteration) it retraced that run: held-out 109.3 at iteration 20, best 110.2 at 30, 109.9 at 75; entropy "
          + "0.84 at 20, 0.46 at 40 and 0.13 at 75, while the value loss rose from 0.91 to 2.1 with the return level. Planned "
          + "for 300 iterations, it was stopped at 100 (24 M steps, 1.15 hours): the held-out return had stayed within 109-111 "
          + "since iteration 20 and the entropy at 0.10-0.12 since iteration 80, so the 200 iterations left (2.3 hours) went "
          + "to probes of mdp-n10-gru." }
      { Name = "mdp-n10-gru-standardized"
        Title = "GRU on 10 episodes of random tabular MDPs, with standardised advantages"
        Setup = MdpSetup 10
        Flags = standardisedGruMdp + " --max_pol_iters 6000 --eval_every 20 --seed 0"
        Agent = "GRU"
        StartsFrom = None
        Goal = AtLeast 157.3
        Deviations = standardisedSmallerIterations "12 000"
        Why =
          "Probes on mdp-n10-gru's flags (held-out return at matched iterations) found its progress bounded per iteration, "
          + "not per step: halving the iterations to 120 or 60 meta-episodes collapsed the policy (entropy 0.06 by iteration "
          + "100-200, return back to 101-102), because the mean advantage is positive while the value net underestimates the "
          + "returns and noisier updates commit to whatever was sampled. Standardised advantages removed the collapse: with "
          + "120 meta-episodes per iteration the held-out return was 113.6 at iteration 120 and 117.3 at 210, level with "
          + "standardised 240-episode iterations (113.5, 117.0) at half the steps. Its first 218 iterations ran as that "
          + "probe, under rl2 train with these flags. At about 2 s per iteration it reached 122.9 at iteration 640 and "
          + "125.2 at 1100 (13.2 M steps), where mdp-n10-gru took 24 M steps to 123.8, with the entropy level at 0.53-0.67 "
          + "from iteration 200. Level at 124-126 to iteration 1900, it then rose again (128.6 at 2000, 134.6 at 3000, "
          + "136.8 at 3320), so the plan of 4000 iterations was raised to 6000 at iteration 3400 while it still gained "
          + "about 1.5 per 100 iterations: 140.0 at 4000, 141.5 at 4240 (50.9 M steps), 144.7 at 5000 and 145.9 at 5540 "
          + "(66.5 M steps), with the entropy at 0.46-0.52 and the gain down to about 0.3 per 100 iterations. It finished "
          + "at 6000 over five sessions (resumed at 1107, 4323 and 5567), 72 M steps and 5.1 hours in all: held-out 147.3 at "
          + "iteration 5880, still rising by about 0.3 per 100 iterations, 10 short of the goal and 9 below mdp-n10-snail." }
      { Name = "mdp-n10-gru-standardized-annealed"
        Title = "GRU on 10 episodes of random tabular MDPs, standardised advantages, learning rate annealed over 800 iterations"
        Setup = MdpSetup 10
        Flags = standardisedGruMdp + " --max_pol_iters 6400 --adam_lr_anneal_from 5600 --eval_every 20 --seed 0"
        Agent = "GRU"
        StartsFrom = fromStandardisedGruMdp
        Goal = AtLeast 157.3
        Deviations = standardisedSmallerIterations "12 000" + annealed 5600 6400
        Why =
          "Annealing the learning rate lifted the MDP SNAIL by 1.8 on the fresh tasks where 600 iterations at a constant "
          + "rate had added about 1 (mdp-n10-snail-annealed); this tests the same on the GRU, 10 short and gaining about 0.3 "
          + "per 100 iterations when mdp-n10-gru-standardized finished. That run's checkpoints stayed on the machine that "
          + "trained it, so this recipe carries its newest committed snapshot, iteration 5567 (held-out 145.9 at 5540), and "
          + "goes on from there: 33 iterations at 1e-3, then 800 with the rate falling. "
          + "It gained 3.8 on the fresh tasks, not the 10 the goal needs: the held-out return rose from 145.0 at 5600 to "
          + "149-150 by 6100 and stayed there to 6400 (best 150.17 at 6360) as the entropy fell from 0.50 to 0.26, and the "
          + "peak scored 151.10 ± 0.53 and the final checkpoint 150.98 ± 0.53 (mdp-n10-gru-standardized: 147.31), 10.9 below "
          + "BEB (posterior) and 6.2 short; papers' measure 152.51 at iteration 6355. Resumed at 5567 and 6099, 0.5 hours "
          + "for the 833 iterations." }
      { Name = "mdp-n10-gru-standardized-annealed-late"
        Title = "GRU on 10 episodes of random tabular MDPs, standardised advantages, 1 200 more iterations before the anneal"
        Setup = MdpSetup 10
        Flags = standardisedGruMdp + " --max_pol_iters 7600 --adam_lr_anneal_from 6800 --eval_every 20 --seed 0"
        Agent = "GRU"
        StartsFrom = fromStandardisedGruMdp
        Goal = AtLeast 157.3
        Deviations = standardisedSmallerIterations "12 000" + annealed 6800 7600
        Why =
          "mdp-n10-gru-standardized-annealed lifted the GRU by 3.8 with an anneal from iteration 5600, while the run was "
          + "still gaining about 0.3 per 100 iterations at 1e-3; this tests whether 1 200 more iterations at 1e-3 before the "
          + "same 800-iteration anneal add to that lift. Its flags equal mdp-n10-gru-standardized's up to iteration 6800, "
          + "so it starts from that run's committed snapshot of iteration 5567, as mdp-n10-gru-standardized-annealed did. "
          + "The 1 233 iterations at 1e-3 gained little on the held-out set (mean 145.4 over 5568-6000, 146.7 over "
          + "6401-6800, best 147.76), but the anneal then lifted it further than the earlier one had: 148.8 on average over "
          + "6801-7200 and 151.9 over 7201-7600 (best 152.76 at 7340, against 150.17), the entropy falling from 0.48 to "
          + "0.22. On the fresh tasks the peak scored 152.15 ± 0.53 and the final checkpoint 153.08 ± 0.52, 2.1 above "
          + "mdp-n10-gru-standardized-annealed's final (150.98) and above UCRL2 (151.87), but 8.9 ± 0.5 below BEB "
          + "(posterior) and 4.2 short of 157.3; papers' measure 154.37 at iteration 7594. Stopped by SIGTERM at 5912 and "
          + "resumed there; 2.0 hours for the 2 033 iterations, beside other work." }
      { Name = "mdp-n10-gru-standardized-annealed-later"
        Title = "GRU on 10 episodes of random tabular MDPs, standardised advantages, 4 000 more iterations before the anneal"
        Setup = MdpSetup 10
        Flags = standardisedGruMdp + " --max_pol_iters 10400 --adam_lr_anneal_from 9600 --eval_every 20 --seed 0"
        Agent = "GRU"
        StartsFrom = fromStandardisedGruMdp
        Goal = AtLeast 157.3
        Deviations = standardisedSmallerIterations "12 000" + annealed 9600 10400
        Why =
          "Moving the GRU's 800-iteration anneal from iteration 5600 to 6800 raised its final return from 150.98 to "
          + "153.08, though the 1 200 iterations at 1e-3 in between gained only about 1.3 on the held-out set; the GRU, "
          + "6 below Greedy (posterior), has not yet learned what the SNAIL has (on which the same move gained nothing, "
          + "mdp-n10-snail-annealed-late). This moves the anneal to 9600: 4 033 more iterations at 1e-3 from "
          + "mdp-n10-gru-standardized's committed snapshot of iteration 5567, some 4.5 hours over several sessions. "
          + "At 1e-3 it kept gaining, slowly: held-out mean 145.4 over 5568-6000, 146.6 over 6001-7000, 148.2 over "
          + "7001-8000, 149.4 over 8001-9000 and 150.0 over 9001-9600. The anneal then lifted it to 153.7 on average over "
          + "its last 400 iterations (best 154.33 at 10200), the entropy falling from 0.44 to 0.24. On the fresh tasks the "
          + "peak scored 154.07 ± 0.52 and the final checkpoint 154.59 ± 0.52, 1.5 above "
          + "mdp-n10-gru-standardized-annealed-late's final (153.08), 7.4 ± 0.4 below BEB (posterior) and 2.7 short of "
          + "157.3; papers' measure 156.15 at iteration 10303. Resumed at 6145 and 9400; 3.6 hours for the 4 833 "
          + "iterations." }
      largerGruMdpAnneal
          "mdp-n10-gru-standardized-annealed-batch240"
          "GRU on 10 episodes of random tabular MDPs, standardised advantages, annealed on twice the meta-episodes per iteration"
          2
          9420
          10220
          (
            "mdp-n10-gru-standardized-annealed-later's anneal lifted its held-out return from 150.0 to 153.7 and its final "
            + "checkpoint scored 154.59 on the fresh tasks, 2.7 short. Every one of its iterations steps on minibatches of 60 "
            + "meta-episodes, an eighth of the paper's 480, and on the 10-pull bandits the paper's minibatch closed most of "
            + "the GRU's gap (bandit-n10-k5-gru-batch480). This anneals the same run from its committed snapshot of "
            + "iteration 9420 (at 1e-3, held-out 150.1) over the same 800 iterations with twice the meta-episodes per "
            + "iteration and per minibatch: the same 16 Adam steps per iteration on gradients of half the variance, at "
            + "about twice the time. The held-out return rose faster and further: 153.8 on average over 9621-9820 and "
            + "154.7 over its last 400 iterations (best 155.26 at 10120; the batch-120 anneal: 153.7), the entropy falling "
            + "from 0.45 to 0.19. On the fresh tasks the peak scored 155.66 ± 0.52 and the final checkpoint 155.40 ± 0.52, "
            + "1.6 and 0.8 above mdp-n10-gru-standardized-annealed-later's, 6.3 ± 0.4 below BEB (posterior) and 1.6 short "
            + "of 157.3; papers' measure 157.46 at iteration 10150. 1.2 hours for the 800 iterations, in one session.")
      largerGruMdpAnneal
          "mdp-n10-gru-standardized-annealed-batch480"
          "GRU on 10 episodes of random tabular MDPs, standardised advantages, annealed on four times the meta-episodes per iteration"
          4
          9420
          10220
          (
            "Annealing on twice the meta-episodes per iteration and per minibatch lifted the GRU's peak by 1.6 over the "
            + "same anneal on 120 (mdp-n10-gru-standardized-annealed-batch240 against -later, 155.66 against 154.07), "
            + "leaving it 1.6 short. This doubles them again, to 480 meta-episodes per iteration in minibatches of 240 (the "
            + "paper's minibatch is 480), from the same committed snapshot of iteration 9420 over the same 800 iterations: "
            + "the same 16 Adam steps per iteration on gradients of a quarter of the first variance, at about twice "
            + "batch240's time per iteration (some 2.5 hours, over two sessions). "
            + "It gained less than the first doubling: the held-out return averaged 155.8 over its last 400 iterations "
            + "(batch240 154.7; best 156.76 at 9980, against 155.26), the entropy falling from 0.46 to 0.17. On the fresh "
            + "tasks the peak scored 156.22 ± 0.52 and the final checkpoint 156.33 ± 0.52, 0.6 and 0.9 above batch240's "
            + "155.66 and 155.40, 5.7 ± 0.4 below BEB (posterior) and 1.0 short of 157.3; papers' measure 158.47 at "
            + "iteration 10109, above both published numbers. The peak gained 1.6 from the first doubling and 0.6 from "
            + "the second. Resumed at 9706; 2.4 hours for the 800 iterations.")
      largerGruMdpAnneal
          "mdp-n10-gru-standardized-annealed-batch480-late"
          "GRU on 10 episodes of random tabular MDPs, standardised advantages, 400 iterations at 1e-3 on four times the meta-episodes before the anneal"
          4
          9820
          10620
          (
            "In mdp-n10-gru-standardized-annealed-batch480 the held-out return rose from 150.1 to 154-155 within 100 "
            + "iterations of the larger iterations, while the rate was still above 9e-4, and then gained only about 1 more as "
            + "the rate fell to zero: the larger minibatches, not the falling rate, made most of the lift. On 120-episode "
            + "iterations, each move of the anneal later paid after it (+2.1, then +1.5). This tests the two together: from "
            + "the same committed snapshot of iteration 9420, 400 iterations at 1e-3 on 480 meta-episodes per iteration in "
            + "minibatches of 240, then batch480's 800-iteration anneal; some 3.7 hours over two sessions. "
            + "At 1e-3 the held-out return levelled at 154.4 (mean over 9601-9820, entropy 0.27-0.28); the anneal then "
            + "lifted it to 155.8 on average over its last 400 iterations, the same as batch480's (best 156.70 at the last "
            + "iteration, 10620), the entropy falling to 0.17. On the fresh tasks that last checkpoint, peak and final "
            + "at once, scored 156.73 ± 0.52, 0.4 above batch480's final (156.33, within the two intervals), 5.3 ± 0.4 below "
            + "BEB (posterior) and 0.6 short of 157.3; papers' measure 158.99 at iteration 10370. The extra 400 "
            + "iterations at 1e-3 neither lifted nor lowered the held-out curve. Resumed at 10200; 3.8 hours for the 1 200 "
            + "iterations.")
      largerGruMdpAnneal
          "mdp-n10-gru-standardized-annealed-batch960"
          "GRU on 10 episodes of random tabular MDPs, standardised advantages, annealed on eight times the meta-episodes per iteration, in the paper's minibatches"
          8
          9420
          10220
          (
            "Each doubling of the anneal's meta-episodes per iteration and per minibatch lifted the GRU's final checkpoint "
            + "by about as much as the last (154.59 on 120, 155.40 on 240, 156.33 on 480; the peak gained 1.6, then 0.6), "
            + "while 400 more iterations at 1e-3 before the anneal left its held-out curve unchanged "
            + "(mdp-n10-gru-standardized-annealed-batch480-late, 156.73, 0.6 short). This doubles them once more, to 960 "
            + "meta-episodes per iteration in minibatches of 480, the paper's own minibatch, from the same committed "
            + "snapshot of iteration 9420 over the same 800-iteration anneal: the same 16 Adam steps per iteration on "
            + "gradients of an eighth of the first variance, at about twice batch480's time per iteration (some 5.5 "
            + "hours, over three sessions).")
      { Name = "bandit-n10-k5-snail"
        Title = "SNAIL on 10-pull, 5-arm Bernoulli bandits"
        Setup = BanditSetup(10, 5)
        Flags = "--architecture snail --num_features 32 --meta_episode_len 10 --adam_lr 1e-3 --meta_episodes_per_policy_update 1200 --max_pol_iters 1000 --eval_every 10 --seed 0"
        Agent = "SNAIL"
        StartsFrom = None
        Goal = ceiling
        Deviations = smallerIterations "12 000"
        Why = "The GRU recipe's iterations, with the papers' SNAIL of 32 features. The goal is the Bayes-optimal 6.660: the published 6.6 and 6.8 are within their own sampling noise of that ceiling." }
      { Name = "bandit-n10-k5-snail-batch480"
        Title = "SNAIL on 10-pull, 5-arm Bernoulli bandits, with the paper's effective minibatch"
        Setup = BanditSetup(10, 5)
        Flags = "--architecture snail --num_features 32 --meta_episode_len 10 --adam_lr 2e-4 --meta_episodes_per_policy_update 2400 --meta_episodes_per_learner_batch 480 --max_pol_iters 800 --eval_every 10 --seed 0"
        Agent = "SNAIL"
        StartsFrom = None
        Goal = ceiling
        Deviations = snailBatch480
        Why =
          "The minibatch of bandit-n10-k5-gru-batch480 with SNAIL: bandit-n10-k5-snail stepped on 60 meta-episodes at learning "
          + "rate 1e-3 and stayed 0.19 below the ceiling. SNAIL is slower per step than the GRU here, so an iteration is half "
          + "the GRU recipe's: 40 gradient steps on 2 400 meta-episodes. At 400 iterations its peak scored 6.582 ± 0.045 on "
          + "the fresh tasks "
          + "(0.068 below Bayes-optimal) and its final checkpoint more, with the policy's entropy still falling, so the recipe "
          + "was extended to 800 iterations." }
      { Name = "bandit-n10-k5-snail-annealed"
        Title = "SNAIL on 10-pull, 5-arm Bernoulli bandits, the paper's effective minibatch, learning rate annealed over the second half"
        Setup = BanditSetup(10, 5)
        Flags = "--architecture snail --num_features 32 --meta_episode_len 10 --adam_lr 2e-4 --meta_episodes_per_policy_update 2400 --meta_episodes_per_learner_batch 480 --max_pol_iters 500 --adam_lr_anneal_from 250 --eval_every 10 --seed 0"
        Agent = "SNAIL"
        StartsFrom = None
        Goal = ceiling
        Deviations = snailBatch480 + annealed 250 500
        Why =
          "bandit-n10-k5-snail-batch480's flags and seed, with the learning rate annealed from iteration 250 to 500: that "
          + "run's held-out return was level from about iteration 170 to 800 while its checkpoints scored 6.58-6.61 on the "
          + "fresh tasks, its final 0.041 below Bayes-optimal, and annealing lifted the MDP SNAIL (mdp-n10-snail-annealed) "
          + "off its plateau within 150 iterations. 500 iterations fit one session: they took 38 minutes here. It reached the"
          + " goal: the held-out return,"
          + " 6.68-6.72 from iteration 160 to 450 like that run's, rose to 6.73-6.75 over the last 50 iterations as the "
          + "entropy fell from 0.24 (iteration 250) to 0.12, best at 500; on the fresh tasks the final checkpoint scored "
          + "6.633 ± 0.045, 0.016 ± 0.036 below Bayes-optimal, where bandit-n10-k5-snail-batch480's best scored 6.609 after "
          + "800 iterations. One seed. The greedy baseline scores 6.630 on the same tasks: at 10 pulls little exploration is "
          + "needed to come within 0.05 of the optimum." }
      { Name = "bandit-n10-k5-snail-annealed-seed1"
        Title = "bandit-n10-k5-snail-annealed with training seed 1"
        Setup = BanditSetup(10, 5)
        Flags = "--architecture snail --num_features 32 --meta_episode_len 10 --adam_lr 2e-4 --meta_episodes_per_policy_update 2400 --meta_episodes_per_learner_batch 480 --max_pol_iters 500 --adam_lr_anneal_from 250 --eval_every 10 --seed 1"
        Agent = "SNAIL"
        StartsFrom = None
        Goal = ceiling
        Deviations = snailBatch480 + annealed 250 500
        Why =
          "bandit-n10-k5-snail-annealed reached the goal on seed 0 by 0.023; this replicate on the next seed tells whether "
          + "that is the schedule or the seed. Training seeds and evaluation seeds draw from disjoint generator streams, so "
          + "seed 1 does not train on the held-out tasks. "
          + "It is the schedule: on seed 1 the held-out return was 6.64-6.67 to iteration 300 and rose to 6.73 at 500 as the "
          + "entropy fell to 0.11, and the final checkpoint scored 6.635 ± 0.045 on the fresh tasks, 0.014 ± 0.035 below "
          + "Bayes-optimal, within 0.05 of 6.660 as on seed 0 (6.633)." }
      { Name = "mdp-n10-snail"
        Title = "SNAIL on 10 episodes of random tabular MDPs (10 states, 5 actions, 10 steps)"
        Setup = MdpSetup 10
        Flags = snailMdp + " --max_pol_iters 1400 --eval_every 10 --seed 0"
        Agent = "SNAIL"
        StartsFrom = None
        Goal = AtLeast 160.1
        Deviations = smallerIterations "12 000"
        Why =
          "SNAIL trains at 800-1 600 steps/s on these MDPs on the machines this ran on, so its iterations are half the GRU recipe's: 7-16 s each. "
          + "Planned for 1 000 iterations, it was extended to 1 400 at iteration 584: its held-out return was still rising "
          + "(133.8 at iteration 470, 138.1 at 500, 142.6 at 580). That run's checkpoints were lost with the machine it ran "
          + "on, before unfinished runs were carried with the results; the recipe was started again from iteration 0 on "
          + "2026-12-01 under the current build, whose numbers differ from the first run's from the start (102.8 against "
          + "103.7 on the held-out set at iteration 20): a new trajectory from the same seed, not a replay. It climbed more slowly "
          + "(120.9 at iteration 610, the first run 138.1 at 500), then rose from about iteration 700 as the first had from 370: "
          + "126.3 at 740, 138.6 at 870, 148.6 at 1010, then about 1 per 100 iterations to 151.8 at 1170 and 155.5 at 1360, "
          + "the policy's entropy down from 0.30 to 0.22. It ran over three sessions (resumed at 611 and 1174), 5.6 hours in all; "
          + "at 1400 it was 4 short of the goal on the fresh tasks and gaining about 1 per 100 iterations, so the goal "
          + "would need some 400 more iterations (1.5 hours) if the rise did not slow further; the recipe was left at 1 400." }
      { Name = "mdp-n10-snail-extended"
        Title = "SNAIL on 10 episodes of random tabular MDPs, mdp-n10-snail carried on to 2 000 iterations"
        Setup = MdpSetup 10
        Flags = snailMdp + " --max_pol_iters 2000 --eval_every 10 --seed 0"
        Agent = "SNAIL"
        StartsFrom = continuing "mdp-n10-snail" 1174 "ec9ed254b7dc9cfca77f1e9ee700f103ca9efe6c"
        Goal = AtLeast 160.1
        Deviations = smallerIterations "12 000"
        Why =
          "mdp-n10-snail's flags and seed with 600 more iterations: it ended 3.9 below the goal while still gaining about 1 "
          + "per 100 iterations, and its run was dropped when it finished, so this recipe starts from that run's snapshot at "
          + "iteration 1174, the newest committed (git history of docs/results/unfinished/mdp-n10-snail). Its 1175-1400 "
          + "were not a replay of the first leg, which ran on another machine (papers' measure 157.33 at iteration 1374, where "
          + "the first run's best to 1400 was 157.03 at 1310), though the held-out score at 1360 matched (155.46 against "
          + "155.5). From iteration 1400 the held-out return stayed within 154.4-157.2 (best 157.24 at 1920, 23 M steps, "
          + "5.3 hours of training from iteration 0), the entropy at 0.17-0.23: 600 more iterations added about 1, not the "
          + "4 that the rate before 1400 promised." }
      { Name = "mdp-n10-snail-annealed"
        Title = "SNAIL on 10 episodes of random tabular MDPs, mdp-n10-snail-extended with its learning rate annealed after 2 000 iterations"
        Setup = MdpSetup 10
        Flags = snailMdp + " --max_pol_iters 2400 --adam_lr_anneal_from 2000 --eval_every 10 --seed 0"
        Agent = "SNAIL"
        StartsFrom = fromExtendedSnailMdp
        Goal = AtLeast 160.1
        Deviations = smallerIterations "12 000" + annealed 2000 2400
        Why =
          "mdp-n10-snail-extended's flags and seed, then 400 iterations of falling learning rate: from iteration 1400 to 2000 "
          + "its held-out return stayed within 154.4-157.2 while the training return of successive iterations swung by 2-3, "
          + "so smaller steps test whether the noise of 120-episode updates at 1e-3 is what holds it 3 below the goal. It "
          + "starts from that run's checkpoint of iteration 2000 (its best so far, iteration 1920, carried too). "
          + "The held-out return rose to 157.3-158.0 within 150 iterations, above anything of the 600 iterations before, and "
          + "was best at 2400 (158.5), the entropy falling from 0.21 to 0.13 and the clip fraction from 0.09 to 0.02 as the "
          + "steps shrank. On the fresh tasks the final checkpoint scored 1.8 above mdp-n10-snail-extended's (158.96 against "
          + "157.19), level with Greedy (posterior) and 3.0 below BEB (posterior): 1.1 short of the goal. By the papers' "
          + "measure it reached 160.54 (iteration 2188), above both published numbers. 44 minutes of annealing did what 600 "
          + "iterations at 1e-3 had not; whether a longer anneal, or larger iterations as the rate falls, would close the "
          + "last 1.1 is untested." }
      { Name = "mdp-n10-snail-annealed-batch240"
        Title = "SNAIL on 10 episodes of random tabular MDPs, mdp-n10-snail-annealed on twice the meta-episodes per iteration"
        Setup = MdpSetup 10
        Flags = timesTheMetaEpisodes 2 snailMdp + " --max_pol_iters 2400 --adam_lr_anneal_from 2000 --eval_every 20 --seed 0"
        Agent = "SNAIL"
        StartsFrom = fromExtendedSnailMdp
        Goal = AtLeast 160.1
        Deviations = smallerIterations (largerIterationsFrom 2000 2) + largerMinibatches 2 + annealed 2000 2400
        Why =
          "The SNAIL's three anneals settled at 158.6-159.2 on the fresh tasks, 0.9-1.5 short. On the GRU, annealing on "
          + "twice the meta-episodes per iteration and per minibatch added 1.6 at the peak and 0.8 at the end "
          + "(mdp-n10-gru-standardized-annealed-batch240 against -later). This repeats mdp-n10-snail-annealed, 400 "
          + "iterations of falling rate from mdp-n10-snail-extended's iteration 2000, with that one change, at about "
          + "twice the time per iteration (some 1.5 hours). "
          + "It did not close the gap: the held-out return averaged 157.8 over 2001-2200 and 158.1 over 2201-2400 (best "
          + "158.85 at 2220; mdp-n10-snail-annealed 157.3-158.0 after 150 iterations, best 158.5), the entropy falling "
          + "from 0.23 to 0.11. On the fresh tasks the peak scored 158.66 ± 0.51 and the final checkpoint 159.25 ± 0.51, "
          + "the SNAIL's best score but within 0.3 of the batch-120 anneals (158.96 final; mdp-n10-snail-annealed-late "
          + "159.16 peak), 2.7 ± 0.4 below BEB (posterior) and 0.85 short of 160.1; papers' measure 161.18 at iteration "
          + "2203, above both published numbers. Where the GRU's anneal gained 1.6 from larger iterations, the SNAIL's "
          + "gained at most 0.3. Resumed at 2082; 1.8 hours for the 400 iterations." }
      { Name = "mdp-n10-snail-annealed-long"
        Title = "SNAIL on 10 episodes of random tabular MDPs, mdp-n10-snail-extended with its learning rate annealed over 800 iterations"
        Setup = MdpSetup 10
        Flags = snailMdp + " --max_pol_iters 2800 --adam_lr_anneal_from 2000 --eval_every 20 --seed 0"
        Agent = "SNAIL"
        StartsFrom = fromExtendedSnailMdp
        Goal = AtLeast 160.1
        Deviations = smallerIterations "12 000" + annealed 2000 2800
        Why =
          "mdp-n10-snail-annealed's schedule stretched to twice the length: its 400 annealed iterations lifted the return "
          + "off the plateau within 150 and it was still best at the last, 1.1 short of the goal, so this recipe tests whether "
          + "more iterations at the middle rates close that. Like it, it starts from mdp-n10-snail-extended's checkpoint of "
          + "iteration 2000; it evaluates every 20 iterations rather than 10, to fit one session. It did not close the gap: "
          + "over the 800 annealed iterations (1.6 hours, stopped and resumed at 2080) the held-out return stayed within "
          + "156.3-158.2 (best 158.21 at 2360, 157.29 at 2800) as the entropy fell from 0.24 to 0.11, and on the fresh tasks "
          + "the peak scored 158.61 ± 0.52 and the final checkpoint 158.74 ± 0.51, level with mdp-n10-snail-annealed's "
          + "158.96 and 3.3 below BEB (posterior). Both anneals settle at 158.6-159.0, Greedy (posterior)'s level on these "
          + "tasks, so the length of the anneal is not what is missing; papers' measure 160.40 at iteration 2313." }
      { Name = "mdp-n10-snail-annealed-lambda95"
        Title = "SNAIL on 10 episodes of random tabular MDPs, mdp-n10-snail-annealed with GAE's λ at 0.95 during the anneal"
        Setup = MdpSetup 10
        Flags = snailMdp + " --gae_lambda 0.95 --max_pol_iters 2400 --adam_lr_anneal_from 2000 --eval_every 10 --seed 0"
        Agent = "SNAIL"
        StartsFrom = fromExtendedSnailMdp
        Goal = AtLeast 160.1
        Deviations = smallerIterations "12 000" + annealed 2000 2400 + longerCreditHorizon
        Why =
          "mdp-n10-snail-annealed with one change, GAE's λ raised from 0.3 to 0.95. Both anneals settled at Greedy "
          + "(posterior)'s level, 3 below BEB (posterior): what the SNAIL lacks is exploration whose payoff comes in later "
          + "episodes of the meta-episode, 10 to 90 steps after the step that explores. At λ 0.3 that payoff reaches the "
          + "exploring step only through the value net's estimate of the next state; at 0.95 the λ-return carries most of "
          + "it directly. Early in training the longer horizon's variance cost the MDP GRU (102 against 109-111 at "
          + "iteration 70); here it applies only to a policy that already plays well, with the learning rate falling. It "
          + "starts, as mdp-n10-snail-annealed did, from mdp-n10-snail-extended's checkpoint of iteration 2000, carried in "
          + "its unfinished directory (its first 2 000 iterations were at λ 0.3). The longer horizon cost more than it "
          + "taught: within 100 iterations the held-out return fell from 157.2 to 153.0 as the entropy rose from 0.19 to "
          + "0.27, and as the rate fell it recovered only to 154.6-156.2 (best 156.16 at 2350), where the 0.3 anneal had "
          + "reached 157.3-158.0 by 2150. On the fresh tasks the final checkpoint scored 157.04 ± 0.52, 1.9 below "
          + "mdp-n10-snail-annealed's 158.96 and 4.9 ± 0.4 below BEB (posterior); the peak is the inherited iteration 1920 "
          + "(156.91). 0.7 hours for the 400 iterations. A rerun on a clean clone reads that start from the repository's "
          + "history, so it is the experiment measured here." }
      { Name = "mdp-n10-snail-annealed-late"
        Title = "SNAIL on 10 episodes of random tabular MDPs, 400 more iterations at 1e-3 before a 400-iteration anneal"
        Setup = MdpSetup 10
        Flags = snailMdp + " --max_pol_iters 2800 --adam_lr_anneal_from 2400 --eval_every 20 --seed 0"
        Agent = "SNAIL"
        StartsFrom = fromExtendedSnailMdp
        Goal = AtLeast 160.1
        Deviations = smallerIterations "12 000" + annealed 2400 2800
        Why =
          "Both SNAIL anneals from iteration 2000 settled at 158.6-159.0, 1.1 short; on the GRU, 1 233 more iterations at "
          + "1e-3 before the same anneal gained little on the held-out set during the constant phase but 2.1 after the "
          + "anneal (mdp-n10-gru-standardized-annealed-late). This tests the same on the SNAIL: 400 more iterations at "
          + "1e-3, then mdp-n10-snail-annealed's 400-iteration anneal. Its flags equal mdp-n10-snail-extended's up to "
          + "iteration 2400, so it starts from that run's committed checkpoint of iteration 2000. "
          + "It did not close the gap: the 400 iterations at 1e-3 held the held-out return at 155.3-157.3 (mean 156.5, "
          + "against 156.2 over mdp-n10-snail-extended's 1401-2000), and the anneal lifted it to 157.5 on average (157.7 "
          + "over its last 200 iterations, best 158.32 at 2760) as the entropy fell from 0.19 to 0.14. On the fresh tasks "
          + "the peak scored 159.16 ± 0.51 and the final checkpoint 158.93 ± 0.51, level with mdp-n10-snail-annealed's "
          + "158.96 and with Greedy (posterior), 2.8 ± 0.4 below BEB (posterior) and 0.9 short of 160.1; papers' measure "
          + "160.22 at iteration 2697. Three anneals, from iteration 2000 or 2400 and 400 or 800 long, settle at "
          + "158.6-159.2: neither the anneal's length nor its start is what is missing. Stopped at 2034 (planned with 600 "
          + "iterations at 1e-3, shortened to 400 to finish in one session) and resumed there; 2.1 hours for the 800 "
          + "iterations." }
      { Name = "mdp-n10-snail-annealed-standardized"
        Title = "SNAIL on 10 episodes of random tabular MDPs, mdp-n10-snail-annealed with standardised advantages during the anneal"
        Setup = MdpSetup 10
        Flags = snailMdp + " --standardize_advs 1 --value_targets lambda_return --max_pol_iters 2400 --adam_lr_anneal_from 2000 --eval_every 10 --seed 0"
        Agent = "SNAIL"
        StartsFrom = fromExtendedSnailMdp
        Goal = AtLeast 160.1
        Deviations = standardisedSmallerIterations "12 000" + lambdaReturnTargets + annealed 2000 2400
        Why =
          "Four SNAIL anneals, of two lengths, from two starts and on two sizes of iteration, settle at 158.6-159.2, "
          + "Greedy (posterior)'s level and 2.7-3.3 below BEB (posterior): the SNAIL commits where the Bayes-adaptive "
          + "policy would still explore. Standardised advantages are what kept the MDP GRU from committing early (its "
          + "entropy 0.80 at iteration 100 against 0.29 by 50 without them), and the SNAIL never had them. This repeats "
          + "mdp-n10-snail-annealed, 400 iterations of falling rate from mdp-n10-snail-extended's iteration 2000, with "
          + "the policy's advantages standardised per iteration. The value net keeps the target it learned for 2 000 "
          + "iterations, the λ-return (--value_targets lambda_return), so the one change is the policy gradient's "
          + "centring and scale (and with it the weight of the entropy bonus beside it). "
          + "It kept the policy more random, not better: the entropy rose from 0.21 to 0.26-0.29 over the first 200 "
          + "iterations (mdp-n10-snail-annealed-batch240's fell to 0.15), and the held-out return averaged 157.3 over "
          + "2001-2200 and 158.6 over 2201-2400 (best 159.06 at 2250). On the fresh tasks the peak scored 159.14 ± 0.52 "
          + "and the final checkpoint 159.04 ± 0.51, within the 158.6-159.2 of the four anneals before it, about 2.9 "
          + "below BEB (posterior) and 1.0 short of 160.1. Resumed at 2002; 1.1 hours for the 400 iterations." } ]

/// A recipe by name, or a usage error naming them all.
let find (name: string) =
    match table |> List.tryFind (fun r -> r.Name = name) with
    | Some r -> r
    | None -> raise (UsageError $"""unknown recipe '{name}'; the recipes are {table |> List.map _.Name |> String.concat ", "}""")
