// Trains a small RL² agent on 10-pull, 5-arm Bernoulli bandits, saves it, loads the checkpoint back
// and plays one meta-episode with it — through RL2's public API only.
using RL2;

var runDirectory = args.Length > 0 ? args[0] : Path.Combine("runs", "csharp-sample");
if (Directory.Exists(runDirectory)) Directory.Delete(runDirectory, recursive: true);

var options = new TrainingOptions
{
    Environment = "bandit",
    NumActions = 5,
    MetaEpisodeLength = 10,
    NumFeatures = 64,
    MetaEpisodesPerIteration = 600,
    LearningRate = 1e-3,
    Iterations = 12,
    RunDirectory = runDirectory,
};

Agent.Train(options, m => Console.WriteLine($"iteration {m.Iteration,2}: mean return {m.MeanReturn:F3}"));

// The checkpoints are on disk: load the agent back as a new process would.
var agent = Agent.Load(options);
Console.WriteLine("one meta-episode on a new bandit:");
var total = 0f;
foreach (var step in agent.PlayMetaEpisode(seed: 42))
{
    total += step.Reward;
    Console.WriteLine($"  pull {step.Time + 1,2}: arm {step.Action} -> reward {step.Reward}");
}
Console.WriteLine($"return {total}");
