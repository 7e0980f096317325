using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NativeEE.Tests.Config;

public class ModelConfigTests
{
    static string SharedConfigPath => Path.Combine(SharedPaths.MiniLm, "config.json");

    static JsonObject SharedConfigNode() => JsonNode.Parse(File.ReadAllText(SharedConfigPath))!.AsObject();

    static ModelConfig ParseNode(JsonObject node) => ModelConfig.Parse(Encoding.UTF8.GetBytes(node.ToJsonString()), "test-config.json");

    static ModelConfigException Refused(JsonObject node) => Assert.Throws<ModelConfigException>(() => ParseNode(node));

    [Fact]
    public void SharedConfigLoadsWithTheValuesInTheFile()
    {
        var c = ModelConfig.Load(SharedConfigPath);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(SharedConfigPath));
        var r = doc.RootElement;
        Assert.Equal(r.GetProperty("model_type").GetString(), c.ModelType);
        Assert.Equal(r.GetProperty("hidden_size").GetInt32(), c.HiddenSize);
        Assert.Equal(r.GetProperty("num_hidden_layers").GetInt32(), c.NumHiddenLayers);
        Assert.Equal(r.GetProperty("num_attention_heads").GetInt32(), c.NumAttentionHeads);
        Assert.Equal(r.GetProperty("intermediate_size").GetInt32(), c.IntermediateSize);
        Assert.Equal(r.GetProperty("max_position_embeddings").GetInt32(), c.MaxPositionEmbeddings);
        Assert.Equal(r.GetProperty("type_vocab_size").GetInt32(), c.TypeVocabSize);
        Assert.Equal(r.GetProperty("vocab_size").GetInt32(), c.VocabSize);
        Assert.Equal(r.GetProperty("pad_token_id").GetInt32(), c.PadTokenId);
        Assert.Equal((float)r.GetProperty("layer_norm_eps").GetDouble(), c.LayerNormEps);
        Assert.Equal(r.GetProperty("hidden_act").GetString(), c.HiddenAct);
        var id2label = r.GetProperty("id2label").EnumerateObject().ToDictionary(p => int.Parse(p.Name), p => p.Value.GetString());
        Assert.Equal(id2label.Count, c.NumLabels);
        for (int i = 0; i < c.NumLabels; i++) Assert.Equal(id2label[i], c.Labels[i]);
        Assert.Equal(c.HiddenSize / c.NumAttentionHeads, c.HeadDim);
        Assert.Equal(SharedConfigPath, c.SourceName);
    }

    public static TheoryData<string> RequiredFields =>
        ["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size", "max_position_embeddings"];

    [Theory, MemberData(nameof(RequiredFields))]
    public void MissingRequiredFieldIsNamed(string field)
    {
        var node = SharedConfigNode();
        node.Remove(field);
        var e = Refused(node);
        Assert.Equal(field, e.Field);
        Assert.Contains(field, e.Message);
        Assert.Contains("test-config.json", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Theory, MemberData(nameof(RequiredFields))]
    public void NullRequiredFieldIsNamed(string field)
    {
        var node = SharedConfigNode();
        node[field] = null;
        Assert.Equal(field, Refused(node).Field);
    }

    [Theory]
    [InlineData("hidden_size", "\"384\"")]
    [InlineData("hidden_size", "384.5")]
    [InlineData("hidden_size", "0")]
    [InlineData("hidden_size", "-384")]
    [InlineData("hidden_size", "1e30")]
    [InlineData("num_hidden_layers", "true")]
    [InlineData("num_attention_heads", "[12]")]
    [InlineData("intermediate_size", "{}")]
    [InlineData("vocab_size", "0")]
    [InlineData("max_position_embeddings", "1")]
    [InlineData("type_vocab_size", "0")]
    [InlineData("pad_token_id", "30522")]
    [InlineData("pad_token_id", "-1")]
    [InlineData("layer_norm_eps", "0")]
    [InlineData("layer_norm_eps", "-1e-12")]
    [InlineData("layer_norm_eps", "\"1e-12\"")]
    [InlineData("hidden_act", "1")]
    [InlineData("model_type", "[]")]
    [InlineData("num_labels", "0")]
    public void InvalidValueIsNamed(string field, string json)
    {
        var node = SharedConfigNode();
        node[field] = JsonNode.Parse(json);
        if (field == "num_labels") node.Remove("id2label");
        var e = Refused(node);
        Assert.Equal(field, e.Field);
        Assert.Contains($"'{field}'", e.Message);
    }

    [Theory]
    [InlineData("gelu_new", "tanh")]
    [InlineData("gelu_pytorch_tanh", "tanh")]
    [InlineData("relu", "gelu")]
    [InlineData("silu", "gelu")]
    public void UnsupportedActivationIsRefusedByName(string act, string mentioned)
    {
        var node = SharedConfigNode();
        node["hidden_act"] = act;
        var e = Refused(node);
        Assert.Equal("hidden_act", e.Field);
        Assert.Contains($"'{act}'", e.Message);
        Assert.Contains("supported: \"gelu\"", e.Message);
        Assert.Contains(mentioned, e.Message);
    }

    [Theory]
    [InlineData("roberta", "position")]
    [InlineData("distilbert", "DistilBERT")]
    [InlineData("gpt2", "not a BERT encoder")]
    public void OtherModelTypesAreRefused(string type, string mentioned)
    {
        var node = SharedConfigNode();
        node["model_type"] = type;
        var e = Refused(node);
        Assert.Equal("model_type", e.Field);
        Assert.Contains($"'{type}'", e.Message);
        Assert.Contains(mentioned, e.Message);
    }

    [Fact]
    public void RelativePositionEmbeddingsAreRefused()
    {
        var node = SharedConfigNode();
        node["position_embedding_type"] = "relative_key";
        Assert.Equal("position_embedding_type", Refused(node).Field);
        node["position_embedding_type"] = "absolute";
        Assert.Equal(384, ParseNode(node).HiddenSize);
    }

    [Fact]
    public void HiddenSizeMustSplitIntoHeads()
    {
        var node = SharedConfigNode();
        node["num_attention_heads"] = 7;
        var e = Refused(node);
        Assert.Equal("num_attention_heads", e.Field);
        Assert.Contains("not divisible", e.Message);
    }

    [Fact]
    public void MinimalConfigGetsHuggingFaceDefaults()
    {
        var c = ModelConfig.Parse("""{"hidden_size":10,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":7,"vocab_size":9,"max_position_embeddings":5}"""u8, "min.json");
        Assert.Equal("bert", c.ModelType);
        Assert.Equal(2, c.TypeVocabSize);
        Assert.Equal(1e-12f, c.LayerNormEps);
        Assert.Equal("gelu", c.HiddenAct);
        Assert.Equal(0, c.PadTokenId);
        Assert.Equal(["LABEL_0", "LABEL_1"], c.Labels);
        Assert.Equal(5, c.HeadDim);
    }

    [Fact]
    public void NumLabelsWithoutId2LabelNamesLabelsGenerically()
    {
        var node = SharedConfigNode();
        node.Remove("id2label");
        node["num_labels"] = 3;
        Assert.Equal(["LABEL_0", "LABEL_1", "LABEL_2"], ParseNode(node).Labels);
    }

    [Fact]
    public void Id2LabelIsOrderedById()
    {
        var node = SharedConfigNode();
        node["id2label"] = JsonNode.Parse("""{"2":"c","0":"a","1":"b"}""");
        Assert.Equal(["a", "b", "c"], ParseNode(node).Labels);
    }

    [Theory]
    [InlineData("""{"0":"a","2":"b"}""")]
    [InlineData("""{"1":"a"}""")]
    [InlineData("""{"x":"a"}""")]
    [InlineData("""{"-1":"a","0":"b"}""")]
    [InlineData("""{"0":"a","00":"b"}""")]
    [InlineData("""{"0":1}""")]
    [InlineData("""{}""")]
    [InlineData("""["a","b"]""")]
    public void Id2LabelMustMapContiguousIds(string json)
    {
        var node = SharedConfigNode();
        node["id2label"] = JsonNode.Parse(json);
        Assert.Equal("id2label", Refused(node).Field);
    }

    [Fact]
    public void NumLabelsMustAgreeWithId2Label()
    {
        var node = SharedConfigNode();
        node["num_labels"] = 3;
        Assert.Equal("num_labels", Refused(node).Field);
        node["num_labels"] = 2;
        Assert.Equal(2, ParseNode(node).NumLabels);
    }

    [Fact]
    public void UnknownFieldsOfAnyShapeAreIgnored()
    {
        var node = SharedConfigNode();
        node["some_future_field"] = JsonNode.Parse("""{"nested":[1,2,{"deep":null}],"x":"y"}""");
        node["another"] = JsonNode.Parse("[[],[{}]]");
        Assert.Equal(384, ParseNode(node).HiddenSize);
    }

    [Fact]
    public void DuplicateFieldIsRefused()
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse("""{"hidden_size":384,"hidden_size":768}"""u8, "dup.json"));
        Assert.Equal("hidden_size", e.Field);
        Assert.Contains("twice", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"hidden_size\": 384")]
    [InlineData("{} {}")]
    [InlineData("not json")]
    public void MalformedJsonNamesTheFile(string text)
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(Encoding.UTF8.GetBytes(text), "broken.json"));
        Assert.Null(e.Field);
        Assert.StartsWith("broken.json: ", e.Message);
    }

    [Fact]
    public void ByteOrderMarkIsAccepted()
    {
        byte[] body = File.ReadAllBytes(SharedConfigPath);
        byte[] withBom = [0xEF, 0xBB, 0xBF, .. body];
        Assert.Equal(384, ModelConfig.Parse(withBom, "bom.json").HiddenSize);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string path = Path.Combine(Path.GetTempPath(), "nativeee-no-such-dir", "config.json");
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Load(path));
        Assert.Equal(path, e.FileName);
        Assert.Contains(path, e.Message);
        Assert.Contains("not found", e.Message);
    }
}
