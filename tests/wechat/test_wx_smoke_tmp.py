def test_smoke(wx):
    r, reply = wx.send("o1", "text", {"Content": "你好", "MsgId": 123})
    print(reply)
    assert reply["ToUserName"] == "o1"
