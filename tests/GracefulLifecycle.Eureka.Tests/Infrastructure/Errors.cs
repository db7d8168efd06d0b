namespace GracefulLifecycle.Eureka.Tests.Infrastructure;

internal static class Errors
{
    /// <summary>Every message of the exception and its inner exceptions, one per line.</summary>
    public static string AllMessages(Exception exception)
    {
        var messages = new List<string>();
        Collect(exception);
        return string.Join(Environment.NewLine, messages);

        void Collect(Exception e)
        {
            messages.Add(e.Message);
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    Collect(inner);
                }
            }
            else if (e.InnerException is { } inner)
            {
                Collect(inner);
            }
        }
    }
}
